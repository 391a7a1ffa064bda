import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng, type Matrix } from "@likeness/core";
import { assertClose } from "@likeness/core/testing";
import { METRICS } from "@likeness/kernels/types";
import { createDenseKernels, type DenseVariant, hasRelaxedSimd } from "./mod.ts";
import { pairwiseRef, topkRef } from "./reference/mod.ts";

const LENGTHS = [1, 3, 4, 5, 15, 16, 17, 63, 64, 65, 384];

function random(rows: number, cols: number, seed: number): Matrix {
  const rng = createRng(seed);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.next() * 2 - 1;
  return { data, rows, cols };
}

async function parity(variant: DenseVariant, threads: number): Promise<void> {
  const kernels = createDenseKernels({ variant, threads, minParallelWork: 0 });
  try {
    for (const d of LENGTHS) {
      const q = random(5, d, 7 * d);
      const r = random(30, d, 7 * d + 1);
      for (const metric of METRICS) {
        for (const largest of [undefined, true, false]) {
          const k = 6;
          const got = await kernels.topk(q, r, { k, metric, largest });
          const want = topkRef(q, r, { k, metric, largest });
          const what = `${variant} threads=${threads} D=${d} ${metric} largest=${largest}`;
          assert.equal(got.rows, 5);
          assert.equal(got.k, k);
          // Values best first match the reference's sorted values ...
          assertClose(got.values, want.values, { rtol: 1e-5, atol: 1e-5, what });
          // ... and every index carries its own value (near-ties may swap places in float32).
          const all = pairwiseRef(q, r, metric).data;
          const at = Array.from(got.indices, (j, t) => all[Math.floor(t / k) * r.rows + j]);
          assertClose(got.values, at, { rtol: 1e-5, atol: 1e-5, what: `${what} (indices)` });
          if (d >= 4) assert.deepEqual(got.indices, want.indices, what);
        }
      }
    }
  } finally {
    kernels.dispose();
  }
}

test("dense topk: scalar matches the float64 reference (1 thread)", () => parity("scalar", 1));
test("dense topk: simd matches the float64 reference (1 thread)", () => parity("simd", 1));
test(
  "dense topk: relaxed matches the float64 reference (1 thread)",
  { skip: !hasRelaxedSimd() && "no relaxed SIMD" },
  () => parity("relaxed", 1),
);
test("dense topk: scalar matches the float64 reference (2 threads)", () => parity("scalar", 2));
test("dense topk: simd matches the float64 reference (2 threads)", () => parity("simd", 2));
test(
  "dense topk: relaxed matches the float64 reference (2 threads)",
  { skip: !hasRelaxedSimd() && "no relaxed SIMD" },
  () => parity("relaxed", 2),
);

test("dense topk: ties go to the lower index, smallest and largest", async () => {
  const kernels = createDenseKernels({ variant: "simd" });
  try {
    // Integer data: every distance is exact in float32, with many equal values.
    const q = { data: new Float32Array([0, 0]), rows: 1, cols: 2 };
    const r = { data: new Float32Array([1, 0, 0, 1, 2, 0, -1, 0, 0, -2, 0, 0]), rows: 6, cols: 2 };
    const near = await kernels.topk(q, r, { k: 6, metric: "l1" });
    assert.deepEqual(Array.from(near.indices), [5, 0, 1, 3, 2, 4]);
    assert.deepEqual(Array.from(near.values), [0, 1, 1, 1, 2, 2]);
    const far = await kernels.topk(q, r, { k: 3, metric: "l1", largest: true });
    assert.deepEqual(Array.from(far.indices), [2, 4, 0]);
    const dot = await kernels.topk({ data: new Float32Array([1, 1]), rows: 1, cols: 2 }, r, { k: 2, metric: "dot" });
    assert.deepEqual(Array.from(dot.indices), [2, 0]); // 2 then the first of the 1s
  } finally {
    kernels.dispose();
  }
});

test("dense topk: label filter keeps eligible references and pads with -1 / NaN", async () => {
  const kernels = createDenseKernels({ variant: "simd", threads: 2, minParallelWork: 0 });
  try {
    const q = random(9, 20, 1);
    const r = random(50, 20, 2);
    const referenceLabels = new Int32Array(50).map((_, j) => j % 10);
    const allowLabels = new Int32Array([3, 7]);
    const got = await kernels.topk(q, r, { k: 12, metric: "l2", referenceLabels, allowLabels });
    const want = topkRef(q, r, { k: 12, metric: "l2", referenceLabels, allowLabels });
    assert.deepEqual(got.indices, want.indices);
    assertClose(got.values, want.values, { rtol: 1e-5, atol: 1e-5 });
    for (let t = 0; t < got.indices.length; t++) {
      const j = got.indices[t];
      if (t % 12 >= 10) {
        assert.equal(j, -1); // only 10 references have label 3 or 7
        assert.ok(Number.isNaN(got.values[t]));
      } else assert.ok(j % 10 === 3 || j % 10 === 7);
    }
  } finally {
    kernels.dispose();
  }
});

test("dense topk: many references stream in blocks (k = R, odd query count)", async () => {
  const kernels = createDenseKernels({ variant: "simd", threads: 2 });
  try {
    const q = random(3, 8, 11);
    const r = random(5000, 8, 12); // 4096 references per block at D = 8: two blocks
    const got = await kernels.topk(q, r, { k: 20, metric: "cosine" });
    const want = topkRef(q, r, { k: 20, metric: "cosine" });
    assertClose(got.values, want.values, { rtol: 1e-5, atol: 1e-5 });
    const full = await kernels.topk(q, random(7, 8, 12), { k: 7, metric: "sqeuclidean" });
    assert.deepEqual(Array.from(full.indices.subarray(0, 7)).sort(), [0, 1, 2, 3, 4, 5, 6]);
  } finally {
    kernels.dispose();
  }
});

test("threshold-buffer selection: k over the usual lengths and up to 4096, integer data with ties, scalar and SIMD", async () => {
  const rng = createRng(99);
  const R = 4200, D = 3;
  const r = { data: new Float32Array(R * D).map(() => rng.int(5) - 2), rows: R, cols: D };
  const q = { data: new Float32Array(3 * D).map(() => rng.int(5) - 2), rows: 3, cols: D };
  for (const variant of ["scalar", "simd"] as DenseVariant[]) {
    const kernels = createDenseKernels({ variant });
    try {
      for (const k of [1, 3, 4, 5, 15, 16, 17, 63, 64, 65, 1000, 2100, 4096]) {
        const got = await kernels.topk(q, r, { k, metric: "l1" });
        const want = topkRef(q, r, { k, metric: "l1" });
        assert.deepEqual(Array.from(got.indices), Array.from(want.indices), `${variant} k=${k}`);
      }
    } finally {
      kernels.dispose();
    }
  }
});

test("full-row and streaming selection (k around R / 32) equal the reference: ties, label filter, largest", async () => {
  const rng = createRng(41);
  const R = 3200, D = 4;
  const r = { data: new Float32Array(R * D).map(() => rng.int(7) - 3), rows: R, cols: D };
  const q = { data: new Float32Array(5 * D).map(() => rng.int(7) - 3), rows: 5, cols: D };
  const referenceLabels = Int32Array.from({ length: R }, (_, j) => j % 4);
  for (const variant of ["scalar", "simd"] as DenseVariant[]) {
    for (const threads of [1, 2]) {
      const kernels = createDenseKernels({ variant, threads, minParallelWork: 0 });
      try {
        for (const k of [99, 100, 101, 640, 1600]) {
          for (const metric of ["l1", "dot"] as const) {
            const what = `${variant}×${threads} k=${k} ${metric}`;
            const got = await kernels.topk(q, r, { k, metric });
            assert.deepEqual(Array.from(got.indices), Array.from(topkRef(q, r, { k, metric }).indices), what);
            const f = { k: Math.min(k, 700), metric, referenceLabels, allowLabels: Int32Array.from([1, 3]) };
            const gf = await kernels.topk(q, r, f);
            assert.deepEqual(Array.from(gf.indices), Array.from(topkRef(q, r, f).indices), `${what} filter`);
          }
        }
      } finally {
        kernels.dispose();
      }
    }
  }
});

test("full-row selection keeps overflowed (infinite) values in order and never takes NaN", async () => {
  const R = 400, D = 2;
  const big = (t: number) => (t % 2 ? 1 : (t >> 1) % 50 === 0 ? 1e30 : (t >> 1) % 7);
  const r = { data: new Float32Array(R * D).map((_, t) => big(t)), rows: R, cols: D };
  const q = { data: new Float32Array([1e30, 0]), rows: 1, cols: D };
  const kernels = createDenseKernels({ variant: "simd" });
  try {
    const got = await kernels.topk(q, r, { k: 100, metric: "dot" });
    // Rows 0, 50, 100, ... overflow to +Infinity: first, in index order; then the rest by value.
    assert.deepEqual(Array.from(got.indices.subarray(0, 8)), [0, 50, 100, 150, 200, 250, 300, 350]);
    assert.ok(Array.from(got.values.subarray(0, 8)).every((v) => v === Infinity));
    assert.ok(Array.from(got.values).every((v) => !Number.isNaN(v)));
    const rest = Array.from(got.values.subarray(8));
    assert.deepEqual(rest, [...rest].sort((a, b) => b - a));
  } finally {
    kernels.dispose();
  }
});
