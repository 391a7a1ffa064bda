import { test } from "node:test";
import assert from "node:assert/strict";
import { ShapeError, ValueError } from "@likeness/core";
import { createDenseKernels } from "./mod.ts";

const m = (rows: number, cols: number, values?: number[]) => ({
  data: values ? new Float32Array(values) : new Float32Array(rows * cols).fill(1),
  rows,
  cols,
});

type Coded = Error & { code?: string };

test("dense kernels: shape mismatch names both column counts", async () => {
  const k = createDenseKernels({ variant: "scalar" });
  try {
    await assert.rejects(k.pairwise(m(2, 64), m(3, 32), "l2"), (e: Coded) => {
      return e instanceof ShapeError && e.code === "SHAPE_MISMATCH" && /64 columns/.test(e.message) &&
        /32/.test(e.message);
    });
    await assert.rejects(k.topk(m(2, 3), m(3, 4), { k: 1 }), (e: Coded) => e.code === "SHAPE_MISMATCH");
  } finally {
    k.dispose();
  }
});

test("dense kernels: non-finite, empty and unknown metric are typed errors", async () => {
  const k = createDenseKernels({ variant: "simd" });
  try {
    await assert.rejects(k.pairwise(m(1, 2, [1, NaN]), m(1, 2), "dot"), (e: Coded) => {
      return e instanceof ValueError && e.code === "NON_FINITE";
    });
    await assert.rejects(k.norms(m(1, 2, [Infinity, 0])), (e: Coded) => e.code === "NON_FINITE");
    await assert.rejects(k.pairwise(m(0, 2, []), m(1, 2), "dot"), (e: Coded) => e.code === "EMPTY_INPUT");
    await assert.rejects(k.normalize(m(1, 0, [])), (e: Coded) => e.code === "EMPTY_INPUT");
    await assert.rejects(k.pairwise(m(1, 2), m(1, 2), "manhattan" as "l1"), (e: Coded) => {
      return e.code === "UNKNOWN_NAME" && /cosine/.test(e.message);
    });
    await assert.rejects(k.topk(m(1, 2), m(1, 2), { k: 1, metric: "cos" as "cosine" }), (e: Coded) => {
      return e.code === "UNKNOWN_NAME";
    });
  } finally {
    k.dispose();
  }
});

test("dense kernels: k checks and label filter errors", async () => {
  const k = createDenseKernels({ variant: "simd" });
  try {
    await assert.rejects(k.topk(m(1, 2), m(3, 2), { k: 4 }), (e: Coded) => {
      return e instanceof ShapeError && e.code === "K_TOO_LARGE" && /k <= 3/.test(e.message);
    });
    await assert.rejects(k.topk(m(1, 2), m(3, 2), { k: 0 }), (e: Coded) => e.code === "INVALID_ARGUMENT");
    await assert.rejects(k.topk(m(1, 2), m(3, 2), { k: 1.5 }), (e: Coded) => e.code === "INVALID_ARGUMENT");
    await assert.rejects(
      k.topk(m(1, 2), m(3, 2), { k: 1, referenceLabels: new Int32Array(2), allowLabels: new Int32Array(1) }),
      (e: Coded) => e.code === "LABEL_MISMATCH",
    );
    await assert.rejects(
      k.topk(m(1, 2), m(3, 2), { k: 1, allowLabels: new Int32Array(1) }),
      (e: Coded) => e.code === "INVALID_ARGUMENT",
    );
  } finally {
    k.dispose();
  }
});

test("dense kernels: bad options and use after dispose", async () => {
  assert.throws(() => createDenseKernels({ variant: "avx" as "simd" }), (e: Coded) => e.code === "UNKNOWN_NAME");
  assert.throws(() => createDenseKernels({ threads: 0 }), (e: Coded) => e.code === "INVALID_ARGUMENT");
  const k = createDenseKernels({ variant: "scalar", threads: 2 });
  assert.equal(k.info.name, "wasm");
  assert.match(k.info.detail, /scalar/);
  k.dispose();
  await assert.rejects(k.pairwise(m(1, 1), m(1, 1), "dot"), (e: Coded) => /disposed/.test(e.message));
});
