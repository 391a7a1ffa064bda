import { test } from "node:test";
import assert from "node:assert/strict";
import { ConvNetEncoder, MlpEncoder, SwitchEncoder } from "@likeness/models";
import { tf, useTfBackend } from "@likeness/tf";
import "@likeness/tfwasm"; // conv gradients on wasm (tfjs-backend-wasm lacks Conv2DBackpropFilter)
import { assertClose } from "@likeness/core/testing";

const code = (c: string) => (e: Error & { code?: string }) => e.code === c;

test("MlpEncoder matches a brute-force forward pass and is deterministic for a seed", async () => {
  await useTfBackend("wasm");
  const enc = new MlpEncoder({ inputDim: 3, hidden: [4], outputDim: 2, seed: 7 });
  const w = Object.fromEntries(enc.getWeights().map((t) => [t.name, t]));
  const x = [0.5, -1, 2];
  const h = Array.from(
    { length: 4 },
    (_, j) => Math.max(0, x.reduce((s, v, i) => s + v * w["dense0/kernel"].values[i * 4 + j], 0)),
  );
  const y = Array.from({ length: 2 }, (_, j) => h.reduce((s, v, i) => s + v * w["dense1/kernel"].values[i * 2 + j], 0));
  const e = await enc.encode([x]);
  assertClose(await e.data(), y, { rtol: 1e-5, atol: 1e-6 });
  const same = new MlpEncoder({ inputDim: 3, hidden: [4], outputDim: 2, seed: 7 });
  assert.equal(same.identity(), enc.identity());
  assert.notEqual(new MlpEncoder({ inputDim: 3, hidden: [4], outputDim: 2, seed: 8 }).identity(), enc.identity());
  // tensors and rows give the same output
  const t = await enc.encode(tf.tensor2d([x]));
  assertClose(await t.data(), await e.data());
});

test("encoders reject bad input with typed errors", async () => {
  const enc = new MlpEncoder({ inputDim: 3, outputDim: 2 });
  await assert.rejects(() => enc.encode([[1, 2]]), code("SHAPE_MISMATCH"));
  await assert.rejects(() => enc.encode([[1, NaN, 2]]), code("NON_FINITE"));
  await assert.rejects(() => enc.encode([]), code("EMPTY_INPUT"));
  await assert.rejects(() => enc.encode(tf.zeros([2, 4])), code("SHAPE_MISMATCH"));
  assert.throws(() => new MlpEncoder({ inputDim: 0, outputDim: 2 }), code("INVALID_ARGUMENT"));
  assert.throws(
    () => new MlpEncoder({ inputDim: 2, outputDim: 2, activation: "relux" as "relu" }),
    code("UNKNOWN_NAME"),
  );
  assert.throws(
    () => new ConvNetEncoder({ inputShape: [4, 4, 1], conv: [{ filters: 2, kernelSize: 5 }], outputDim: 2 }),
    code("INVALID_ARGUMENT"),
  );
  assert.throws(
    () => enc.setWeights([{ name: "dense0/bias", shape: [2], values: new Float32Array(2) }]),
    code("NOT_FOUND"),
  );
  const ws = enc.getWeights();
  ws[0] = { ...ws[0], shape: [2, 3], values: new Float32Array(6) };
  assert.throws(() => enc.setWeights(ws), code("SHAPE_MISMATCH"));
});

test("ConvNetEncoder: output shape, flat rows equal image tensors", async () => {
  await useTfBackend("wasm");
  const enc = new ConvNetEncoder({
    inputShape: [8, 8, 1],
    conv: [{ filters: 2 }, { filters: 3, pool: 2 }],
    dense: [5],
    outputDim: 4,
    seed: 3,
  });
  // 8 -> 6 -> 4 -> pool 2 -> 2x2x3 = 12 -> 5 -> 4
  const shapes = Object.fromEntries(enc.getWeights().map((w) => [w.name, w.shape]));
  assert.deepEqual(shapes["dense0/kernel"], [12, 5]);
  const rows = [Array.from({ length: 64 }, (_, i) => Math.sin(i)), Array.from({ length: 64 }, (_, i) => Math.cos(i))];
  const a = await enc.encode(rows);
  const b = await enc.encode(tf.tensor4d(rows.flat(), [2, 8, 8, 1]));
  assert.deepEqual(a.shape, [2, 4]);
  assertClose(await a.data(), await b.data(), { rtol: 1e-5, atol: 1e-6 });
});

test("convnet gradients: wasm 4.22 lacks Conv2DBackpropFilter natively; ours trains and matches cpu", async () => {
  await useTfBackend("wasm");
  const native = ["Conv2DBackpropInput", "MaxPoolGrad", "AvgPoolGrad"].filter((k) => !tf.getKernel(k, "wasm"));
  assert.deepEqual(native, []);
  assert.ok(tf.getKernel("Conv2DBackpropFilter", "wasm"), "registered by @likeness/models");
  const enc = new ConvNetEncoder({ inputShape: [6, 6, 1], conv: [{ filters: 2, pool: 2 }], outputDim: 2, seed: 1 });
  const x = tf.tensor4d(Array.from({ length: 72 }, (_, i) => (i % 7) / 7), [2, 6, 6, 1]);
  const f = (): tf.Scalar => tf.sum(tf.square(enc.forward(x)));
  const grads = async () => {
    const { grads } = tf.variableGrads(f, enc.variables());
    const out = await Promise.all(enc.variables().map((v) => grads[v.name].data()));
    tf.dispose(grads);
    return out.flatMap((g) => Array.from(g));
  };
  const onWasm = await grads();
  await useTfBackend("cpu");
  try {
    const onCpu = await grads();
    assert.ok(onCpu.some((v) => v !== 0));
    assertClose(onWasm, onCpu, { rtol: 1e-4, atol: 1e-5 });
  } finally {
    await useTfBackend("wasm");
  }
});

test("SwitchEncoder routes items and keeps batch order, also in forward", async () => {
  await useTfBackend("wasm");
  const a = new MlpEncoder({ inputDim: 2, outputDim: 3, seed: 1 });
  const b = new MlpEncoder({ inputDim: 4, outputDim: 3, seed: 2 });
  const sw = new SwitchEncoder({ a, b });
  const items = [{ route: "b", input: [1, 2, 3, 4] }, { route: "a", input: [5, 6] }, {
    route: "b",
    input: [0, 1, 0, 1],
  }];
  const e = await sw.encode(items);
  const ea = await a.encode([[5, 6]]);
  const eb = await b.encode([[1, 2, 3, 4], [0, 1, 0, 1]]);
  const d = await e.data();
  assertClose(d.slice(0, 3), (await eb.data()).slice(0, 3));
  assertClose(d.slice(3, 6), await ea.data());
  assertClose(d.slice(6, 9), (await eb.data()).slice(3, 6));
  assertClose(await sw.forward(items).data(), d, { rtol: 1e-5, atol: 1e-6 });
  assert.equal(sw.getWeights().filter((w) => w.name.startsWith("b/")).length, 2);
  await assert.rejects(() => sw.encode([{ route: "c", input: [1] }]), code("UNKNOWN_NAME"));
  assert.throws(
    () => new SwitchEncoder({ a, c: new MlpEncoder({ inputDim: 2, outputDim: 5 }) }),
    code("SHAPE_MISMATCH"),
  );
});
