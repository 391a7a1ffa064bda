import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng, type Matrix, sameLabelMatrix } from "@likeness/core";
import { createDenseKernels, createMiningKernels, type DenseVariant } from "./mod.ts";
import { hasRelaxedSimd } from "./probe.ts";

type Coded = Error & { code?: string };

function matrix(rows: number, cols: number, seed: number): Matrix {
  const rng = createRng(seed);
  return { data: Float32Array.from({ length: rows * cols }, () => rng.normal()), rows, cols };
}

const VARIANTS: DenseVariant[] = hasRelaxedSimd() ? ["scalar", "simd", "relaxed"] : ["scalar", "simd"];

test("dense kernels' synchronous form gives the bits of the async calls, threaded or not", async () => {
  const q = matrix(37, 19, 1);
  const r = matrix(53, 19, 2);
  for (const variant of VARIANTS) {
    for (const threads of [1, 2]) {
      // minParallelWork 0: the async pairwise splits over the Workers; the synchronous one runs here
      const k = createDenseKernels({ variant, threads, minParallelWork: 0 });
      try {
        const s = await k.synchronous();
        for (const metric of ["dot", "cosine", "l2", "sqeuclidean", "l1"] as const) {
          assert.deepEqual(s.pairwise(q, r, metric), await k.pairwise(q, r, metric), `${variant} ${threads} ${metric}`);
        }
        assert.deepEqual(s.norms(q), await k.norms(q));
        assert.deepEqual(s.normalize(q), await k.normalize(q));
      } finally {
        k.dispose();
      }
    }
  }
});

test("a synchronous dense call during an async one is UNAVAILABLE; bad input and disposal throw", async () => {
  const k = createDenseKernels({ variant: "simd" });
  const s = await k.synchronous();
  const q = matrix(4, 3, 3);
  const pending = k.pairwise(q, q, "dot");
  assert.throws(() => s.pairwise(q, q, "dot"), (e: Coded) => e.code === "UNAVAILABLE");
  await pending;
  assert.equal(s.pairwise(q, q, "dot").rows, 4);
  assert.throws(() => s.pairwise(q, matrix(4, 2, 4), "dot"), (e: Coded) => e.code === "SHAPE_MISMATCH");
  assert.throws(() => s.pairwise(q, q, "hamming" as "dot"), (e: Coded) => e.code === "UNKNOWN_NAME");
  assert.throws(
    () => s.normalize({ data: new Float32Array(0), rows: 0, cols: 3 }),
    (e: Coded) => e.code === "EMPTY_INPUT",
  );
  k.dispose();
  assert.throws(() => s.norms(q), (e: Coded) => /disposed/.test(e.message));
});

test("mining kernels' synchronous form gives the async results and throws their errors", async () => {
  const b = 24;
  const emb = matrix(b, 5, 7);
  const dist = createDenseKernels({ variant: "scalar" });
  const d = await dist.pairwise(emb, emb, "l2");
  dist.dispose();
  const same = sameLabelMatrix(Array.from({ length: b }, (_, i) => i % 4));
  for (const variant of ["scalar", "simd"] as const) {
    const k = createMiningKernels({ variant });
    const s = await k.synchronous();
    assert.deepEqual(s.batchHard(d, same), await k.batchHard(d, same));
    const t = { margin: 0.5, type: "semihard" } as const;
    assert.deepEqual(s.tripletMargin(d, same, t), await k.tripletMargin(d, same, t));
    assert.ok(s.tripletMargin(d, same, t).count > 0);
    const pm = { posMargin: 1, negMargin: 2 };
    assert.deepEqual(s.pairMargin(d, same, pm), await k.pairMargin(d, same, pm));
    assert.deepEqual(s.multiSimilarity(d, same, { epsilon: 0.1 }), await k.multiSimilarity(d, same, { epsilon: 0.1 }));
    const bad = { ...d, data: Float32Array.from(d.data, (v, i) => (i === 5 ? NaN : v)) };
    assert.throws(() => s.tripletMargin(bad, same, t), (e: Coded) => e.code === "NON_FINITE");
    k.dispose();
    assert.throws(() => s.batchHard(d, same), (e: Coded) => /disposed/.test(e.message));
    await assert.rejects(k.synchronous(), (e: Coded) => /disposed/.test(e.message));
  }
});
