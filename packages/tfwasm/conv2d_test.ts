import { test } from "node:test";
import assert from "node:assert/strict";
import { assertClose } from "@likeness/core/testing";
import { tf } from "@likeness/tf";
import { isLikenessWasmKernel, registerLikenessWasmKernels } from "@likeness/tfwasm";
import { _isPointwise } from "./_conv2d.ts";
import { on, values } from "./_test_util.ts";

async function sameAsCpu(f: () => tf.Tensor[], what: string): Promise<void> {
  await registerLikenessWasmKernels({ replace: true });
  assert.ok(isLikenessWasmKernel("Conv2D") && isLikenessWasmKernel("FusedConv2D"), "ours are registered");
  // Three runs on wasm: the products' way chooser tries in place and the Workers.
  const wasm = [await on("wasm", f), await on("wasm", f), await on("wasm", f)];
  const cpu = await on("cpu", f);
  for (const w of wasm) {
    assert.equal(w.length, cpu.length);
    for (let i = 0; i < cpu.length; i++) {
      assert.deepEqual(w[i].shape, cpu[i].shape, `${what} [${i}] shape`);
      assertClose(w[i].data, cpu[i].data, { rtol: 1e-5, atol: 1e-5, what: `${what} [${i}]` });
    }
  }
}

/** [n, h, w, cin, cout]: rows n·h·w and channels hitting the products' row (4) and column (8) tails. */
const POINTWISE: [number, number, number, number, number][] = [
  [1, 1, 1, 1, 1],
  [1, 3, 5, 7, 9],
  [2, 4, 4, 16, 8],
  [3, 5, 1, 17, 65],
  [4, 28, 1, 300, 33],
  [2, 17, 3, 64, 130],
];

test("Conv2D on wasm (likeness): 1×1 stride-1 convolutions as products match tfjs-backend-cpu", async () => {
  await sameAsCpu(() =>
    POINTWISE.flatMap(([n, h, w, ci, co], s) => [
      tf.conv2d(
        values(10 * s, [n, h, w, ci]) as tf.Tensor4D,
        values(10 * s + 1, [1, 1, ci, co]) as tf.Tensor4D,
        1,
        "same",
      ),
      tf.conv2d(
        values(10 * s + 2, [n, h, w, ci]) as tf.Tensor4D,
        values(10 * s + 3, [1, 1, ci, co]) as tf.Tensor4D,
        1,
        "valid",
      ),
    ]), "pointwise");
});

test("FusedConv2D on wasm (likeness): bias and activations fused into the 1×1 product match cpu", async () => {
  await sameAsCpu(
    () =>
      POINTWISE.flatMap(([n, h, w, ci, co], s) =>
        (["linear", "relu", "relu6", "elu", "sigmoid", "leakyrelu"] as const).map((activation, j) =>
          tf.fused.conv2d({
            x: values(100 * s + j, [n, h, w, ci]) as tf.Tensor4D,
            filter: values(100 * s + j + 50, [1, 1, ci, co]) as tf.Tensor4D,
            strides: 1,
            pad: "same",
            bias: values(7 * s + j, [co]) as tf.Tensor1D,
            activation,
            leakyreluAlpha: 0.3,
          })
        )
      ),
    "fused pointwise",
  );
});

test("Conv2D on wasm (likeness): stride-1 convolutions as the flipped input gradient match cpu (pads, tails, above and below the threads' threshold)", async () => {
  await sameAsCpu(() => [
    tf.conv2d(values(21, [3, 9, 8, 5]) as tf.Tensor4D, values(22, [3, 3, 5, 7]) as tf.Tensor4D, 1, "same"),
    tf.conv2d(values(23, [2, 11, 10, 1]) as tf.Tensor4D, values(24, [5, 5, 1, 16]) as tf.Tensor4D, 1, "valid"),
    tf.conv2d(values(25, [2, 8, 9, 9]) as tf.Tensor4D, values(26, [4, 2, 9, 17]) as tf.Tensor4D, 1, "same"),
    tf.conv2d(values(27, [1, 7, 7, 3]) as tf.Tensor4D, values(28, [3, 3, 3, 4]) as tf.Tensor4D, 1, [[0, 0], [2, 1], [
      0,
      2,
    ], [0, 0]]),
    // 16 · 8 · 8 · 32 · 400 = 1.3 M multiply-adds: on the Workers (the MNIST convnet's second layer, batch 16).
    tf.conv2d(values(29, [16, 12, 12, 16]) as tf.Tensor4D, values(30, [5, 5, 16, 32]) as tf.Tensor4D, 1, "valid"),
  ], "stride 1");
});

test("Conv2D on wasm (likeness): a stride-1 convolution gives the same bits call after call", async () => {
  await registerLikenessWasmKernels({ replace: true });
  const f = () => [
    tf.conv2d(values(31, [16, 12, 12, 16]) as tf.Tensor4D, values(32, [5, 5, 16, 32]) as tf.Tensor4D, 1, "valid"),
  ];
  const first = await on("wasm", f);
  for (let i = 0; i < 4; i++) assert.deepEqual((await on("wasm", f))[0].data, first[0].data, `call ${i + 2}`);
});

test("Conv2D on wasm (likeness): other convolutions (strides, dilation) run on tfjs's", async () => {
  await sameAsCpu(() => [
    tf.conv2d(values(1, [2, 7, 6, 3]) as tf.Tensor4D, values(2, [3, 3, 3, 5]) as tf.Tensor4D, 1, "same"),
    tf.conv2d(values(3, [2, 7, 6, 3]) as tf.Tensor4D, values(4, [1, 1, 3, 5]) as tf.Tensor4D, 2, "valid"),
    tf.conv2d(values(5, [1, 9, 9, 2]) as tf.Tensor4D, values(6, [1, 1, 2, 4]) as tf.Tensor4D, 1, [[0, 0], [1, 1], [
      2,
      0,
    ], [0, 0]]),
    tf.conv2d(values(7, [1, 9, 9, 2]) as tf.Tensor4D, values(8, [2, 2, 2, 4]) as tf.Tensor4D, 1, "valid", "NHWC", 2),
  ], "fallback");
});

test("Conv2D's gradient still works with the pointwise kernel in the forward pass", async () => {
  await sameAsCpu(() => {
    const x = values(11, [2, 5, 3, 6]) as tf.Tensor4D;
    const w = values(12, [1, 1, 6, 4]) as tf.Tensor4D;
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, "valid")))
    )([x, w]);
    return [dx, dw];
  }, "gradients");
});

test("_isPointwise picks exactly the 1×1 stride-1 dilation-1 NHWC float32 convolutions", () => {
  const t = (shape: number[], dtype = "float32") => ({ dataId: {}, shape, dtype });
  const x = t([2, 5, 3, 6]);
  const w = t([1, 1, 6, 4]);
  assert.equal(_isPointwise(x, w, { strides: 1, pad: "same" }), true);
  assert.equal(_isPointwise(x, w, { strides: [1, 1], pad: "valid", dilations: [1, 1], dataFormat: "NHWC" }), true);
  assert.equal(_isPointwise(x, w, { strides: 1, pad: 0 }), true);
  assert.equal(_isPointwise(x, t([3, 3, 6, 4]), { strides: 1, pad: "same" }), false);
  assert.equal(_isPointwise(x, w, { strides: 2, pad: "same" }), false);
  assert.equal(_isPointwise(x, w, { strides: 1, pad: "same", dilations: 2 }), false);
  assert.equal(_isPointwise(x, w, { strides: 1, pad: [[0, 0], [1, 1], [0, 0], [0, 0]] }), false);
  assert.equal(_isPointwise(x, w, { strides: 1, pad: "same", dataFormat: "NCHW" }), false);
  assert.equal(_isPointwise(t([2, 5, 3, 6], "int32"), w, { strides: 1, pad: "same" }), false);
  assert.equal(_isPointwise(x, t([1, 1, 5, 4]), { strides: 1, pad: "same" }), false);
});

test("Conv2D on wasm (likeness): a pointwise convolution gives the same bits call after call, whichever way it runs", async () => {
  await registerLikenessWasmKernels({ replace: true });
  const f = () => [
    tf.conv2d(values(21, [8, 32, 32, 64]) as tf.Tensor4D, values(22, [1, 1, 64, 128]) as tf.Tensor4D, 1, "same"),
  ];
  const first = (await on("wasm", f))[0].data;
  // Enough calls for the way chooser to run it in place and on the Workers, three times each.
  for (let i = 0; i < 6; i++) assert.deepEqual((await on("wasm", f))[0].data, first, `call ${i + 2}`);
});
