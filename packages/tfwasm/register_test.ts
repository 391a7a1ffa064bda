import { test } from "node:test";
import assert from "node:assert/strict";
import "@tensorflow/tfjs-backend-cpu";
import { createRng, type Rng } from "@likeness/core";
import { assertClose } from "@likeness/core/testing";
import { tf, type TfBackendName, useTfBackend } from "@likeness/tf";
import {
  isLikenessWasmKernel,
  LIKENESS_FASTER_WASM_KERNELS,
  LIKENESS_WASM_KERNELS,
  registerLikenessWasmKernels,
  restoreTfjsWasmKernels,
} from "@likeness/tfwasm";

// Importing @likeness/tfwasm registered every kernel; put tfjs's own back to test from stock tfjs.
const autoRegistered = [...LIKENESS_WASM_KERNELS, ...LIKENESS_FASTER_WASM_KERNELS].filter(isLikenessWasmKernel);
const restored = restoreTfjsWasmKernels();
const tfjsBackpropInput = tf.getKernel("Conv2DBackpropInput", "wasm")!.kernelFunc;
const first = await registerLikenessWasmKernels();

function randn(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

/** Run `f` on a backend and return its outputs as plain arrays. */
async function on(backend: TfBackendName, f: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await useTfBackend(backend);
  const out = tf.tidy(f);
  const list = Array.isArray(out) ? out : [out];
  const data = list.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(list);
  return data;
}

async function assertSameOnWasmAndCpu(f: () => tf.Tensor | tf.Tensor[], what: string): Promise<void> {
  const wasm = await on("wasm", f);
  const cpu = await on("cpu", f);
  assert.equal(wasm.length, cpu.length);
  for (let i = 0; i < cpu.length; i++) assertClose(wasm[i], cpu[i], { rtol: 1e-4, atol: 1e-4, what: `${what} [${i}]` });
}

test("importing @likeness/tfwasm registers every kernel; restoreTfjsWasmKernels puts tfjs's back", () => {
  assert.deepEqual(autoRegistered.sort(), [...LIKENESS_WASM_KERNELS, ...LIKENESS_FASTER_WASM_KERNELS].sort());
  assert.deepEqual(restored.sort(), [...LIKENESS_FASTER_WASM_KERNELS].sort());
  for (const name of LIKENESS_FASTER_WASM_KERNELS) assert.ok(!isLikenessWasmKernel(name), `${name} is tfjs's again`);
  for (const name of LIKENESS_WASM_KERNELS) assert.ok(isLikenessWasmKernel(name), `${name} stays (tfjs lacks it)`);
});

test("registerLikenessWasmKernels registers the missing kernels once and is idempotent", async () => {
  assert.deepEqual(first.registered, []);
  assert.deepEqual(first.present.sort(), [...LIKENESS_WASM_KERNELS].sort());
  for (const name of LIKENESS_WASM_KERNELS) assert.ok(tf.getKernel(name, "wasm"), `${name} registered`);
  const again = await registerLikenessWasmKernels();
  assert.deepEqual(again.registered, []);
  assert.deepEqual(again.present.sort(), [...LIKENESS_WASM_KERNELS].sort());
  assert.equal(tf.getKernel("Conv2DBackpropInput", "wasm")!.kernelFunc, tfjsBackpropInput, "tfjs's kept by default");
});

/** Input gradients of conv2d on wasm with tfjs's own Conv2DBackpropInput, then with likeness's (replace: true). */
async function inputGradients(
  rng: Rng,
): Promise<{ before: Float32Array[]; after: Float32Array[]; cpu: Float32Array[] }> {
  const cases = CONV_CASES.map((c) => ({
    c,
    wv: randn(rng, c.w.reduce((p, d) => p * d, 1)),
    dyShape: tf.backend_util.computeConv2DInfo(c.x, c.w, c.strides, 1, c.pad).outShape,
  }));
  const f = () =>
    cases.map(({ c, wv, dyShape }, n) => {
      const w = tf.tensor4d(wv, c.w);
      const dy = tf.tensor(
        Float32Array.from({ length: dyShape.reduce((p, d) => p * d, 1) }, (_, i) => Math.sin(i + n)),
        dyShape,
      );
      return tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x as tf.Tensor4D, w, c.strides, c.pad), dy)))(
        tf.zeros(c.x),
      );
    });
  const before = await on("wasm", f);
  const r = await registerLikenessWasmKernels({ replace: true });
  // Whether this call or an earlier one (e.g. importing @likeness/models) put them there, they are ours now.
  for (const name of LIKENESS_FASTER_WASM_KERNELS) assert.ok(isLikenessWasmKernel(name), `${name} is likeness's`);
  for (const name of r.replaced) assert.ok([...LIKENESS_WASM_KERNELS, ...LIKENESS_FASTER_WASM_KERNELS].includes(name));
  const again = await registerLikenessWasmKernels({ replace: true });
  assert.deepEqual(again.registered, [], "idempotent with replace");
  const after = await on("wasm", f);
  return { before, after, cpu: await on("cpu", f) };
}

type Shape4 = [number, number, number, number];
const CONV_CASES: Array<{ x: Shape4; w: Shape4; strides: number; pad: "same" | "valid" | number }> = [
  { x: [1, 5, 5, 1], w: [3, 3, 1, 4], strides: 1, pad: "same" },
  { x: [2, 7, 9, 3], w: [3, 3, 3, 5], strides: 1, pad: "valid" },
  { x: [3, 9, 8, 5], w: [3, 3, 5, 7], strides: 2, pad: "same" },
  { x: [2, 11, 11, 6], w: [3, 3, 6, 9], strides: 2, pad: "valid" },
  { x: [2, 6, 7, 4], w: [5, 3, 4, 8], strides: 1, pad: "same" },
  { x: [2, 6, 7, 4], w: [3, 3, 4, 8], strides: 1, pad: 1 },
  { x: [4, 8, 8, 2], w: [2, 2, 2, 3], strides: 2, pad: "valid" },
];

test("Conv2DBackpropInput (replace: true) matches tfjs-backend-cpu and tfjs-backend-wasm's own kernel", async () => {
  const { before, after, cpu } = await inputGradients(createRng(11));
  for (let i = 0; i < cpu.length; i++) {
    assertClose(after[i], cpu[i], { rtol: 1e-4, atol: 1e-4, what: `likeness vs cpu ${JSON.stringify(CONV_CASES[i])}` });
    assertClose(after[i], before[i], { rtol: 1e-4, atol: 1e-4, what: `likeness vs tfjs-wasm ${i}` });
  }
  assert.ok(isLikenessWasmKernel("Conv2DBackpropInput"), "likeness's kernel is registered");
});

test("Conv2DBackpropFilter (likeness's, after replace) on wasm matches tfjs-backend-cpu (odd sizes, stride 2, same/valid/explicit, batch > 1)", async () => {
  const rng = createRng(7);
  for (const c of CONV_CASES) {
    const xv = randn(rng, c.x.reduce((p, d) => p * d, 1));
    const wv = randn(rng, c.w.reduce((p, d) => p * d, 1));
    const dyShape = tf.backend_util.computeConv2DInfo(c.x, c.w, c.strides, 1, c.pad).outShape;
    const dyv = randn(rng, dyShape.reduce((p, d) => p * d, 1));
    await assertSameOnWasmAndCpu(() => {
      const x = tf.tensor4d(xv, c.x);
      const dy = tf.tensor(dyv, dyShape);
      const f = (w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, w as tf.Tensor4D, c.strides, c.pad), dy));
      return tf.grad(f)(tf.tensor4d(wv, c.w));
    }, JSON.stringify(c));
  }
});

test("MaxPoolGrad (replace: true) matches tfjs-backend-cpu (2×2 and 3×3 windows, stride 1-2, same/valid, ties)", async () => {
  await registerLikenessWasmKernels({ replace: true });
  const rng = createRng(12);
  const pools: Array<{ x: Shape4; f: [number, number]; s: number; pad: "same" | "valid" }> = [
    { x: [2, 8, 8, 5], f: [2, 2], s: 2, pad: "valid" },
    { x: [3, 7, 9, 3], f: [3, 3], s: 2, pad: "same" },
    { x: [1, 6, 5, 17], f: [2, 3], s: 1, pad: "same" },
  ];
  for (const p of pools) {
    const xv = randn(rng, p.x.reduce((a, d) => a * d, 1)).map((v) => Math.round(v * 2));
    await assertSameOnWasmAndCpu(
      () =>
        tf.grad((x: tf.Tensor) => tf.sum(tf.square(tf.add(tf.maxPool(x as tf.Tensor4D, p.f, p.s, p.pad), 0.5))))(
          tf.tensor4d(xv, p.x),
        ),
      JSON.stringify(p),
    );
  }
});

test("UnsortedSegmentSum on wasm matches tfjs-backend-cpu (float32 and int32, out-of-range ids dropped)", async () => {
  const rng = createRng(8);
  for (const inner of [1, 3, 4, 5, 17]) {
    const xv = randn(rng, 9 * inner);
    const ids = Int32Array.from({ length: 9 }, () => rng.int(6) - 1);
    await assertSameOnWasmAndCpu(() => [
      tf.unsortedSegmentSum(tf.tensor2d(xv, [9, inner]), tf.tensor1d(ids, "int32"), 4),
      tf.unsortedSegmentSum(tf.tensor2d(Int32Array.from(xv, (v) => Math.round(v * 10)), [9, inner], "int32"), ids, 4),
    ], `inner ${inner}`);
  }
  await assertSameOnWasmAndCpu(
    () =>
      tf.grad((a: tf.Tensor) => tf.sum(tf.square(tf.gather(a, [0, 2, 2, 4]))))(
        tf.reshape(tf.range(0, 15, 1, "float32"), [5, 3]),
      ),
    "gather gradient",
  );
});

test("UnsortedSegmentSum on wasm rejects multi-dimensional segment ids with UNSUPPORTED", async () => {
  await useTfBackend("wasm");
  assert.throws(
    () =>
      tf.unsortedSegmentSum(
        tf.ones([2, 2]),
        tf.tensor2d([[0, 1], [1, 0]], [2, 2], "int32") as unknown as tf.Tensor1D,
        2,
      ),
    { name: "ValueError", code: "UNSUPPORTED" },
  );
});

/** A small convnet: conv 3×3 same → relu → maxPool 2 → conv 3×3 valid stride 2 → relu → dense → softmax CE. */
function makeNet(rng: Rng) {
  const p = {
    w1: tf.tensor4d(randn(rng, 3 * 3 * 3 * 6).map((v) => v * 0.3), [3, 3, 3, 6]),
    b1: tf.tensor1d(randn(rng, 6).map((v) => v * 0.1)),
    w2: tf.tensor4d(randn(rng, 3 * 3 * 6 * 5).map((v) => v * 0.2), [3, 3, 6, 5]),
    b2: tf.tensor1d(randn(rng, 5).map((v) => v * 0.1)),
    wd: tf.tensor2d(randn(rng, 2 * 2 * 5 * 4).map((v) => v * 0.3), [20, 4]),
  };
  const x = tf.tensor4d(randn(rng, 6 * 11 * 11 * 3), [6, 11, 11, 3]);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 1, 2], "int32"), 4);
  const loss = (w1: tf.Tensor, b1: tf.Tensor, w2: tf.Tensor, b2: tf.Tensor, wd: tf.Tensor): tf.Scalar => {
    let h = tf.relu(tf.add(tf.conv2d(x, w1 as tf.Tensor4D, 1, "same"), b1)) as tf.Tensor4D;
    h = tf.maxPool(h, 2, 2, "valid");
    h = tf.relu(tf.add(tf.conv2d(h, w2 as tf.Tensor4D, 2, "valid"), b2)) as tf.Tensor4D;
    return tf.losses.softmaxCrossEntropy(y, tf.matMul(tf.reshape(h, [6, 20]), wd as tf.Tensor2D)) as tf.Scalar;
  };
  return { p, x, y, loss };
}

test("end to end: tf.grads of a small convnet loss on wasm equals the cpu backend's, for every weight", async () => {
  await assertSameOnWasmAndCpu(() => {
    const { p, loss } = makeNet(createRng(9));
    return tf.grads(loss)([p.w1, p.b1, p.w2, p.b2, p.wd]);
  }, "convnet gradients");
});

test("end to end: a few Adam steps on wasm reduce the convnet loss", async () => {
  await useTfBackend("wasm");
  const { p, x, y, loss } = makeNet(createRng(10));
  const vars = [p.w1, p.b1, p.w2, p.b2, p.wd].map((t) => tf.variable(t));
  const opt = tf.train.adam(0.02);
  const f = () => loss(vars[0], vars[1], vars[2], vars[3], vars[4]);
  const before = tf.tidy(() => f().dataSync()[0]);
  for (let i = 0; i < 8; i++) tf.dispose(opt.minimize(f, true, vars) ?? []);
  const after = tf.tidy(() => f().dataSync()[0]);
  assert.ok(after < before * 0.8, `loss ${before} -> ${after}`);
  opt.dispose();
  tf.dispose([...vars, ...Object.values(p), x, y]);
});

test("without replace a foreign kernel is kept; replace: true swaps it for likeness's", async () => {
  const ours = tf.getKernel("Conv2DBackpropFilter", "wasm")!;
  const foreign = ((args: Parameters<tf.KernelFunc>[0]) => ours.kernelFunc(args)) as tf.KernelFunc;
  tf.unregisterKernel("Conv2DBackpropFilter", "wasm");
  tf.registerKernel({ kernelName: "Conv2DBackpropFilter", backendName: "wasm", kernelFunc: foreign });
  const kept = await registerLikenessWasmKernels();
  assert.ok(kept.present.includes("Conv2DBackpropFilter"));
  assert.equal(tf.getKernel("Conv2DBackpropFilter", "wasm")!.kernelFunc, foreign);
  const swapped = await registerLikenessWasmKernels({ replace: true });
  assert.deepEqual(swapped.replaced, ["Conv2DBackpropFilter"]);
  assert.notEqual(tf.getKernel("Conv2DBackpropFilter", "wasm")!.kernelFunc, foreign);
});
