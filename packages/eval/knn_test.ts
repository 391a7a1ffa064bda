import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng } from "@likeness/core";
import { exactKnn, metricValue } from "@likeness/eval";
import { assertClose } from "@likeness/core/testing";

function randomRows(n: number, d: number, seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => Array.from({ length: d }, () => Math.fround(rng.normal())));
}

test("exactKnn equals a brute-force sort for every metric", async () => {
  const q = randomRows(7, 5, 1);
  const r = randomRows(23, 5, 2);
  const qm = { data: new Float32Array(q.flat()), rows: 7, cols: 5 };
  const rm = { data: new Float32Array(r.flat()), rows: 23, cols: 5 };
  for (const metric of ["dot", "cosine", "l2", "sqeuclidean", "l1"] as const) {
    const got = await exactKnn(q, r, { k: 6, metric });
    const larger = metric === "dot" || metric === "cosine";
    for (let i = 0; i < 7; i++) {
      const order = Array.from({ length: 23 }, (_, j) => j).map((j) => ({ j, v: metricValue(qm, i, rm, j, metric) }))
        .sort((a, b) => (larger ? b.v - a.v : a.v - b.v) || a.j - b.j).slice(0, 6);
      assert.deepEqual(Array.from(got.indices.subarray(i * 6, i * 6 + 6)), order.map((o) => o.j), metric);
      assertClose(Array.from(got.values.subarray(i * 6, i * 6 + 6)), order.map((o) => o.v), { rtol: 1e-6 });
    }
  }
});

test("exactKnn: ties go to the lower index and excludeSelf skips the query's own row", async () => {
  const rows = [[1, 0], [1, 0], [0, 1], [1, 0]];
  const r = await exactKnn(rows, rows, { k: 2, metric: "l2" });
  assert.deepEqual(Array.from(r.indices), [0, 1, 0, 1, 2, 0, 0, 1]);
  const s = await exactKnn(rows, rows, { k: 2, metric: "l2", excludeSelf: true });
  assert.deepEqual(Array.from(s.indices), [1, 3, 0, 3, 0, 1, 0, 1]);
  assert.equal(
    metricValue(
      { data: new Float32Array([0, 0, 1, 1]), rows: 2, cols: 2 },
      0,
      {
        data: new Float32Array([0, 0, 1, 1]),
        rows: 2,
        cols: 2,
      },
      1,
      "cosine",
    ),
    0,
    "zero-norm cosine is 0",
  );
});

test("exactKnn rejects bad input with typed errors", async () => {
  await assert.rejects(exactKnn([[1, 2]], [[1, 2, 3]], { k: 1 }), { code: "SHAPE_MISMATCH" });
  await assert.rejects(
    exactKnn([[1, 2]], [[1, 2]], { k: 2 }),
    (e: Error & { code?: string }) => e.code === "K_TOO_LARGE" && /lower k/.test(e.message),
  );
  await assert.rejects(exactKnn([[1, 2]], [[1, 2], [3, 4]], { k: 1, excludeSelf: true }), { code: "SHAPE_MISMATCH" });
  await assert.rejects(exactKnn([[1, 2]], [[1, 2]], { k: 1, metric: "cos" as "cosine" }), { code: "UNKNOWN_NAME" });
  await assert.rejects(exactKnn([[1, NaN]], [[1, 2]], { k: 1 }), { code: "NON_FINITE" });
  await assert.rejects(exactKnn([[1, 2]], [[1, 2]], { k: 0 }), { code: "INVALID_ARGUMENT" });
});

test("large k (sorted path) agrees with small-k buffers and honours excludeSelf", async () => {
  const rows = randomRows(60, 3, 7);
  const big = await exactKnn(rows, rows, { k: 45, metric: "l2", excludeSelf: true });
  const small = await exactKnn(rows, rows, { k: 5, metric: "l2", excludeSelf: true });
  for (let i = 0; i < 60; i++) {
    assert.deepEqual(
      Array.from(big.indices.subarray(i * 45, i * 45 + 5)),
      Array.from(small.indices.subarray(i * 5, i * 5 + 5)),
    );
    assert.ok(!Array.from(big.indices.subarray(i * 45, i * 45 + 45)).includes(i));
  }
});

test("a backend's topk is used, and the self match is dropped from k + 1 results", async () => {
  const rows = [[0, 0], [1, 0], [3, 0]];
  const calls: number[] = [];
  const backend = {
    topk(_q: unknown, _r: unknown, o: { k: number }) {
      calls.push(o.k);
      // a fake exact top-k over the line: row i's neighbours by |x_i - x_j|
      const xs = [0, 1, 3];
      const indices = new Int32Array(3 * o.k);
      const values = new Float32Array(3 * o.k);
      xs.forEach((x, i) => {
        const order = [0, 1, 2].sort((a, b) => Math.abs(xs[a] - x) - Math.abs(xs[b] - x) || a - b).slice(0, o.k);
        order.forEach((j, t) => {
          indices[i * o.k + t] = j;
          values[i * o.k + t] = Math.abs(xs[j] - x);
        });
      });
      return Promise.resolve({ indices, values, rows: 3, k: o.k });
    },
  };
  const r = await exactKnn(rows, rows, { k: 1, metric: "l2", excludeSelf: true, backend });
  assert.deepEqual(calls, [2]);
  assert.deepEqual(Array.from(r.indices), [1, 0, 1]);
  assert.deepEqual(Array.from(r.values), [1, 1, 2]);
});

test("a full Backend searches through a resident index: same neighbours as the reference, self dropped", async () => {
  const { createWasmBackend } = await import("@likeness/backend");
  const rng = createRng(11);
  const n = 700, d = 12;
  const data = new Float32Array(n * d).map(() => rng.int(7) - 3);
  const m = { data, rows: n, cols: d };
  const backend = createWasmBackend({ threads: 2 });
  try {
    for (const metric of ["l1", "sqeuclidean"] as const) {
      for (const k of [1, 40, 500]) {
        const want = await exactKnn(m, m, { k, metric, excludeSelf: true });
        const got = await exactKnn(m, m, { k, metric, excludeSelf: true, backend });
        assert.deepEqual(Array.from(got.indices), Array.from(want.indices), `${metric} k=${k}`);
        // (assertClose spreads its arrays into arguments; 350,000 values overflow the stack.)
        for (let t = 0; t < got.values.length; t++) assert.ok(Math.abs(got.values[t] - want.values[t]) < 1e-5);
      }
    }
  } finally {
    backend.dispose();
  }
});
