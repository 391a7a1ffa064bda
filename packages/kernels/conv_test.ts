import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng, type Rng } from "@likeness/core";
import { assertClose } from "@likeness/core/testing";
import {
  type Conv2DGeometry,
  type ConvKernels,
  type ConvVariant,
  createConvKernels,
  createMatMulKernels,
  hasRelaxedSimd,
  hasWasmSimd,
  type MatMulKernels,
  type MatMulVariant,
} from "@likeness/kernels";
import {
  conv2dBackpropFilterRef,
  conv2dBackpropInputRef,
  maxPoolGradRef,
  unsortedSegmentSumRef,
} from "@likeness/kernels/reference";

const VARIANTS = hasWasmSimd() ? (["scalar", "simd"] as const) : (["scalar"] as const);

function randn(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

/** tfjs's output size and top/left padding for 'same' / 'valid' (dilation 1). */
function geometry(
  [batch, h, w, ci, co]: number[],
  [kh, kw, sh, sw]: number[],
  pad: "same" | "valid" | [number, number, number, number],
): Conv2DGeometry {
  let ho: number, wo: number, pt: number, pl: number;
  if (pad === "valid") {
    [ho, wo, pt, pl] = [Math.ceil((h - kh + 1) / sh), Math.ceil((w - kw + 1) / sw), 0, 0];
  } else if (pad === "same") {
    [ho, wo] = [Math.ceil(h / sh), Math.ceil(w / sw)];
    pt = Math.floor(Math.max((ho - 1) * sh + kh - h, 0) / 2);
    pl = Math.floor(Math.max((wo - 1) * sw + kw - w, 0) / 2);
  } else {
    const [top, bottom, left, right] = pad;
    [ho, wo, pt, pl] = [
      Math.floor((h + top + bottom - kh) / sh) + 1,
      Math.floor((w + left + right - kw) / sw) + 1,
      top,
      left,
    ];
  }
  return {
    batch,
    inHeight: h,
    inWidth: w,
    inChannels: ci,
    outHeight: ho,
    outWidth: wo,
    outChannels: co,
    filterHeight: kh,
    filterWidth: kw,
    strideHeight: sh,
    strideWidth: sw,
    padTop: pt,
    padLeft: pl,
  };
}

const CASES: Array<[number[], number[], "same" | "valid" | [number, number, number, number]]> = [
  [[1, 1, 1, 1, 1], [1, 1, 1, 1], "valid"],
  [[2, 5, 7, 3, 5], [3, 3, 1, 1], "same"],
  [[3, 9, 8, 1, 8], [3, 3, 2, 2], "same"],
  [[2, 7, 7, 5, 17], [3, 3, 2, 2], "valid"],
  [[1, 6, 5, 4, 16], [5, 3, 1, 2], "same"],
  [[2, 8, 8, 13, 9], [2, 2, 2, 2], "valid"],
  [[1, 5, 5, 3, 4], [3, 3, 1, 1], [2, 1, 0, 2]],
  [[1, 2, 2, 2, 3], [5, 5, 1, 1], "same"],
  [[2, 12, 11, 8, 12], [3, 3, 3, 2], "same"],
];

/** Run every variant over every case; `run` draws its inputs and returns [kernel result, reference]. */
async function checkCases(
  seed: number,
  run: (k: ConvKernels, g: Conv2DGeometry, rng: Rng) => [Float32Array, ArrayLike<number>],
): Promise<void> {
  const rng = createRng(seed);
  for (const variant of VARIANTS) {
    const k = await createConvKernels({ variant });
    for (const [dims, filt, pad] of CASES) {
      const [got, want] = run(k, geometry(dims, filt, pad), rng);
      assertClose(got, want, { rtol: 1e-5, atol: 1e-5, what: `${variant} ${JSON.stringify([dims, filt, pad])}` });
    }
    k.dispose();
  }
}

test("conv2dBackpropFilter matches the float64 reference (same/valid/explicit, strides 1-3, channel tails)", async () => {
  await checkCases(1, (k, g, rng) => {
    const x = randn(rng, g.batch * g.inHeight * g.inWidth * g.inChannels);
    const dy = randn(rng, g.batch * g.outHeight * g.outWidth * g.outChannels);
    return [k.conv2dBackpropFilter(x, dy, g), conv2dBackpropFilterRef(x, dy, g)];
  });
});

test("conv2dBackpropInput matches the float64 reference (same/valid/explicit, strides 1-3, channel tails)", async () => {
  await checkCases(4, (k, g, rng) => {
    const dy = randn(rng, g.batch * g.outHeight * g.outWidth * g.outChannels);
    const w = randn(rng, g.filterHeight * g.filterWidth * g.inChannels * g.outChannels);
    return [k.conv2dBackpropInput(dy, w, g), conv2dBackpropInputRef(dy, w, g)];
  });
});

test("conv2dBackpropFilter and conv2dBackpropInput: scalar and SIMD builds agree bit for bit over every tail", async (t) => {
  if (!hasWasmSimd()) {
    t.skip("no WebAssembly SIMD in this runtime");
    return;
  }
  const rng = createRng(2);
  const scalar = await createConvKernels({ variant: "scalar" });
  const simd = await createConvKernels({ variant: "simd" });
  for (const ci of [1, 3, 4, 5, 8, 9, 13, 17]) {
    for (const co of [1, 3, 4, 5, 7, 8, 9, 15, 16, 17]) {
      const g = geometry([2, 5, 11, ci, co], [3, 3, 1, 2], "same");
      const x = randn(rng, g.batch * g.inHeight * g.inWidth * ci);
      const dy = randn(rng, g.batch * g.outHeight * g.outWidth * co);
      assert.deepEqual(simd.conv2dBackpropFilter(x, dy, g), scalar.conv2dBackpropFilter(x, dy, g), `ci ${ci} co ${co}`);
      const w = randn(rng, 9 * ci * co);
      assert.deepEqual(
        simd.conv2dBackpropInput(dy, w, g),
        scalar.conv2dBackpropInput(dy, w, g),
        `dx ci ${ci} co ${co}`,
      );
    }
  }
  scalar.dispose();
  simd.dispose();
});

test("conv and max-pool gradients on the matmul kernels' two threads: the one-thread bits, every build, batches that split unevenly", async () => {
  const rng = createRng(9);
  const builds: Array<[MatMulVariant, ConvVariant]> = [["scalar", "scalar"]];
  if (hasWasmSimd()) builds.push(["simd", "simd"]);
  if (hasRelaxedSimd()) builds.push(["relaxed", "simd"]);
  const cases: Array<[number[], number[], "same" | "valid"]> = [
    ...CASES.map(([d, f, p]) =>
      [[7, ...d.slice(1)], f, p === "same" ? "same" : "valid"] as [number[], number[], "same" | "valid"]
    ),
    [[9, 12, 12, 13, 17], [3, 3, 1, 1], "same"], // dW of 1,989 values: two chunks of the sum
    [[5, 12, 12, 16, 32], [5, 5, 1, 1], "valid"],
  ];
  for (const [mmVariant, convVariant] of builds) {
    const mm = await createMatMulKernels({ variant: mmVariant, threads: 2, minParallelWork: 0 });
    const threaded = await createConvKernels({ variant: convVariant, matmul: mm });
    const alone = await createConvKernels({ variant: convVariant });
    try {
      assert.equal(mm.threads, 2, "the Workers run");
      for (const [dims, filt, pad] of cases) {
        const g = geometry(dims, filt, pad);
        const what = `${mmVariant} ${JSON.stringify([dims, filt, pad])}`;
        const x = randn(rng, g.batch * g.inHeight * g.inWidth * g.inChannels);
        const dy = randn(rng, g.batch * g.outHeight * g.outWidth * g.outChannels);
        const w = randn(rng, g.filterHeight * g.filterWidth * g.inChannels * g.outChannels);
        assert.deepEqual(threaded.conv2dBackpropFilter(x, dy, g), alone.conv2dBackpropFilter(x, dy, g), `dW ${what}`);
        assert.deepEqual(threaded.conv2dBackpropInput(dy, w, g), alone.conv2dBackpropInput(dy, w, g), `dx ${what}`);
        assertClose(threaded.conv2dBackpropFilter(x, dy, g), conv2dBackpropFilterRef(x, dy, g), {
          rtol: 1e-5,
          atol: 1e-4,
          what,
        });
        const pg = { ...g, channels: g.inChannels };
        const py = randn(rng, g.batch * g.outHeight * g.outWidth * g.inChannels);
        assert.deepEqual(threaded.maxPoolGrad(x, py, pg), alone.maxPoolGrad(x, py, pg), `pool ${what}`);
      }
      // Into `out`, and below minParallelWork (the calling thread): the same again.
      const g = geometry([3, 6, 6, 4, 8], [3, 3, 1, 1], "same");
      const x = randn(rng, 3 * 36 * 4), dy = randn(rng, 3 * 36 * 8);
      const out = new Float32Array(9 * 32);
      assert.equal(threaded.conv2dBackpropFilter(x, dy, g, out), out);
      assert.deepEqual(out, alone.conv2dBackpropFilter(x, dy, g));
    } finally {
      threaded.dispose();
      alone.dispose();
      mm.dispose();
    }
  }
});

test("maxPoolGrad matches the float64 reference, ties and padding included, and SIMD equals scalar", async () => {
  const rng = createRng(5);
  const kernels = await Promise.all(VARIANTS.map((variant) => createConvKernels({ variant })));
  const pools: Array<[number[], number[], "same" | "valid"]> = [
    [[2, 28, 28, 32, 32], [2, 2, 2, 2], "valid"],
    [[1, 7, 7, 5, 5], [3, 3, 2, 2], "same"],
    [[3, 9, 6, 3, 3], [2, 3, 1, 2], "same"],
    [[2, 5, 5, 17, 17], [3, 3, 2, 2], "valid"],
    [[1, 1, 1, 4, 4], [2, 2, 2, 2], "same"],
  ];
  for (const [dims, filt, pad] of pools) {
    const cg = geometry(dims, filt, pad);
    const { inChannels, outChannels: _, ...rest } = cg;
    const g = { ...rest, channels: inChannels };
    // rounded values make ties common: the first maximum in window order must win
    const x = randn(rng, g.batch * g.inHeight * g.inWidth * g.channels).map((v) => Math.round(v * 2));
    const dy = randn(rng, g.batch * g.outHeight * g.outWidth * g.channels);
    const results = kernels.map((k) => k.maxPoolGrad(x, dy, g));
    assertClose(results[0], maxPoolGradRef(x, dy, g), { rtol: 1e-6, atol: 1e-6, what: JSON.stringify(dims) });
    for (const r of results) assert.deepEqual(r, results[0]);
  }
  kernels.forEach((k) => k.dispose());
});

test("conv2dBackpropFilter writes into `out` and zeroes taps that only see padding", async () => {
  const k = await createConvKernels();
  // 1×1 input, 3×3 'same' filter: only the centre tap sees the pixel.
  const g = geometry([1, 1, 1, 1, 2], [3, 3, 1, 1], "same");
  const out = new Float32Array(18).fill(7);
  const res = k.conv2dBackpropFilter(new Float32Array([3]), new Float32Array([2, -1]), g, out);
  assert.equal(res, out);
  const want = new Float32Array(18);
  want[8] = 6;
  want[9] = -3;
  assert.deepEqual(out, want);
});

test("unsortedSegmentSum matches the reference over row lengths that hit every tail, dropping bad ids", async () => {
  const rng = createRng(3);
  for (const variant of VARIANTS) {
    const k = await createConvKernels({ variant });
    for (const inner of [1, 3, 4, 5, 15, 16, 17, 63, 64, 65, 1000]) {
      const n = 11;
      const segments = 4;
      const ids = new Int32Array(n);
      for (let i = 0; i < n; i++) ids[i] = rng.int(segments + 2) - 1; // includes -1 and `segments`
      const x = randn(rng, n * inner);
      assertClose(k.unsortedSegmentSum(x, ids, inner, segments), unsortedSegmentSumRef(x, ids, inner, segments), {
        rtol: 1e-6,
        atol: 1e-6,
        what: `${variant} inner ${inner}`,
      });
    }
    assert.deepEqual(k.unsortedSegmentSum(new Float32Array(0), new Int32Array(0), 3, 2), new Float32Array(6));
    k.dispose();
  }
});

test("conv kernels reject bad geometry, lengths, variants and use after dispose with typed errors", async () => {
  const k = await createConvKernels();
  const g = geometry([1, 4, 4, 2, 3], [3, 3, 1, 1], "valid");
  const x = new Float32Array(32);
  const dy = new Float32Array(12);
  assert.throws(() => k.conv2dBackpropFilter(x.subarray(1), dy, g), { name: "ShapeError", code: "SHAPE_MISMATCH" });
  assert.throws(() => k.conv2dBackpropFilter(x, dy.subarray(1), g), { name: "ShapeError", code: "SHAPE_MISMATCH" });
  assert.throws(() => k.conv2dBackpropFilter(x, dy, g, new Float32Array(5)), { code: "SHAPE_MISMATCH" });
  assert.throws(() => k.conv2dBackpropFilter(x, dy, { ...g, strideHeight: 0 }), {
    name: "ValueError",
    code: "INVALID_ARGUMENT",
  });
  assert.throws(() => k.conv2dBackpropFilter(x, dy, { ...g, padTop: 1.5 }), { code: "INVALID_ARGUMENT" });
  assert.throws(() => k.conv2dBackpropInput(dy, new Float32Array(53), g), { code: "SHAPE_MISMATCH" });
  assert.throws(() => k.conv2dBackpropInput(dy, new Float32Array(54), g, new Float32Array(3)), {
    code: "SHAPE_MISMATCH",
  });
  assert.throws(() => k.unsortedSegmentSum(new Float32Array(5), new Int32Array(2), 2, 3), { code: "SHAPE_MISMATCH" });
  assert.throws(() => k.unsortedSegmentSum(new Float32Array(4), new Int32Array(2), 2, -1), {
    code: "INVALID_ARGUMENT",
  });
  await assert.rejects(createConvKernels({ variant: "gpu" as "simd" }), { name: "ValueError", code: "UNKNOWN_NAME" });
  await assert.rejects(createConvKernels({ matmul: { threads: 2 } as unknown as MatMulKernels }), {
    name: "ValueError",
    code: "INVALID_ARGUMENT",
  });
  k.dispose();
  assert.throws(() => k.unsortedSegmentSum(new Float32Array(2), new Int32Array(1), 2, 1), /disposed/);
});
