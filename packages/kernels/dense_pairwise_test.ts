import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng, type Matrix } from "@likeness/core";
import { assertClose } from "@likeness/core/testing";
import { METRICS } from "@likeness/kernels/types";
import { createDenseKernels, type DenseVariant, hasRelaxedSimd, hasWasmThreads } from "./mod.ts";
import { normalizeRef, normsRef, pairwiseRef } from "./reference/mod.ts";

const LENGTHS = [1, 3, 4, 5, 15, 16, 17, 63, 64, 65, 384];

function random(rows: number, cols: number, seed: number): Matrix {
  const rng = createRng(seed);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.next() * 2 - 1;
  return { data, rows, cols };
}

async function parity(variant: DenseVariant, threads: number): Promise<void> {
  const k = createDenseKernels({ variant, threads, minParallelWork: 0 });
  try {
    assert.equal(k.variant, variant);
    for (const [d, nr] of LENGTHS.flatMap((d) => [[d, 11], [d, 13]])) {
      // 7 queries (odd: the last row takes the 1-row tile); 11 references run the 2 × 6 product
      // tile, then the 2 × 4 one, then a 1 × 1 tail; 13 run two 2 × 6 tiles and a 1 × 1 tail.
      const q = random(7, d, d);
      const r = random(nr, d, 1000 + d + nr);
      // A reference equal to a query: d(a, a) must come out exactly 0 for the distances.
      r.data.set(q.data.subarray(0, d), 2 * d);
      for (const metric of METRICS) {
        const got = await k.pairwise(q, r, metric);
        assert.equal(got.rows, 7);
        assert.equal(got.cols, nr);
        assertClose(got.data, pairwiseRef(q, r, metric).data, {
          rtol: 1e-5,
          atol: 1e-5,
          what: `${variant} threads=${threads} D=${d} R=${nr} ${metric}`,
        });
        if (metric === "l2" || metric === "sqeuclidean" || metric === "l1") assert.equal(got.data[2], 0);
      }
      assertClose(await k.norms(r), normsRef(r), { rtol: 1e-5, atol: 1e-6, what: `${variant} norms D=${d}` });
      assertClose((await k.normalize(r)).data, normalizeRef(r).data, {
        rtol: 1e-5,
        atol: 1e-6,
        what: `${variant} normalize D=${d}`,
      });
    }
    assert.equal(k.info.threads, hasWasmThreads() ? threads : 1);
  } finally {
    k.dispose();
  }
}

test("dense pairwise: scalar matches the float64 reference (1 thread)", () => parity("scalar", 1));
test("dense pairwise: simd matches the float64 reference (1 thread)", () => parity("simd", 1));
test("dense pairwise: relaxed matches the float64 reference (1 thread)", {
  skip: !hasRelaxedSimd() && "no relaxed SIMD",
}, () => parity("relaxed", 1));
test("dense pairwise: scalar matches the float64 reference (2 threads)", () => parity("scalar", 2));
test("dense pairwise: simd matches the float64 reference (2 threads)", () => parity("simd", 2));
test("dense pairwise: relaxed matches the float64 reference (2 threads)", {
  skip: !hasRelaxedSimd() && "no relaxed SIMD",
}, () => parity("relaxed", 2));

test("dense pairwise: zero rows give cosine 0, normalize keeps them zero", async () => {
  const k = createDenseKernels({ variant: "simd" });
  try {
    const q = { data: new Float32Array([0, 0, 0, 0, 0, 1, 2, 3, 4, 5]), rows: 2, cols: 5 };
    const c = await k.pairwise(q, q, "cosine");
    assertClose(c.data, [0, 0, 0, 1], { atol: 1e-6 });
    assert.deepEqual(Array.from((await k.normalize(q)).data.subarray(0, 5)), [0, 0, 0, 0, 0]);
    assertClose(await k.norms(q), [0, Math.sqrt(55)]);
  } finally {
    k.dispose();
  }
});

test("dense pairwise: a larger split over threads equals one thread exactly", async () => {
  const q = random(37, 130, 5);
  const r = random(70, 130, 6);
  const one = createDenseKernels({ variant: "simd", threads: 1 });
  const two = createDenseKernels({ variant: "simd", threads: 2, minParallelWork: 0 });
  try {
    for (const metric of METRICS) {
      assert.deepEqual((await two.pairwise(q, r, metric)).data, (await one.pairwise(q, r, metric)).data);
    }
  } finally {
    one.dispose();
    two.dispose();
  }
});

test("dense pairwise: concurrent calls on one instance do not interfere", async () => {
  const k = createDenseKernels({ variant: "simd", threads: 2, minParallelWork: 0 });
  try {
    const a = random(9, 33, 1);
    const b = random(12, 33, 2);
    const [x, y] = await Promise.all([k.pairwise(a, b, "l2"), k.pairwise(b, a, "dot")]);
    assertClose(x.data, pairwiseRef(a, b, "l2").data, { rtol: 1e-5, atol: 1e-5 });
    assertClose(y.data, pairwiseRef(b, a, "dot").data, { rtol: 1e-5, atol: 1e-5 });
  } finally {
    k.dispose();
  }
});
