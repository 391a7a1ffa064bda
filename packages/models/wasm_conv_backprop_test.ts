import { test } from "node:test";
import assert from "node:assert/strict";
import { registerWasmConvBackpropFilter } from "@likeness/models";
import { tf, useTfBackend } from "@likeness/tf";
import { assertClose } from "@likeness/core/testing";
import { createRng } from "@likeness/core";

function values(rng: ReturnType<typeof createRng>, n: number): number[] {
  return Array.from({ length: n }, () => rng.next() * 2 - 1);
}

test("composed wasm Conv2DBackpropFilter matches the cpu backend over pads, strides and shapes", async () => {
  assert.equal(registerWasmConvBackpropFilter(), false, "registered on import");
  const cases: {
    x: [number, number, number, number];
    k: [number, number, number, number];
    stride: number | [number, number];
    pad: "valid" | "same" | number;
  }[] = [
    { x: [2, 8, 8, 1], k: [3, 3, 1, 4], stride: 1, pad: "valid" },
    { x: [3, 7, 9, 2], k: [3, 2, 2, 3], stride: 1, pad: "same" },
    { x: [2, 9, 9, 3], k: [3, 3, 3, 2], stride: 2, pad: "valid" },
    { x: [2, 8, 7, 2], k: [2, 3, 2, 5], stride: [2, 3], pad: "same" },
    { x: [1, 6, 6, 2], k: [3, 3, 2, 2], stride: 1, pad: 1 },
    { x: [1, 5, 5, 1], k: [5, 5, 1, 1], stride: 1, pad: "valid" },
  ];
  const rng = createRng(5);
  for (const c of cases) {
    const xv = values(rng, c.x.reduce((a, b) => a * b, 1));
    const wv = values(rng, c.k.reduce((a, b) => a * b, 1));
    const grad = async (backend: "cpu" | "wasm") => {
      await useTfBackend(backend);
      const x = tf.tensor4d(xv, c.x);
      const w = tf.variable(tf.tensor4d(wv, c.k));
      const { grads } = tf.variableGrads(() => tf.sum(tf.square(tf.conv2d(x, w as tf.Tensor4D, c.stride, c.pad))), [w]);
      const out = Array.from(await grads[w.name].data());
      tf.dispose([x, w, grads[w.name]]);
      return out;
    };
    const cpu = await grad("cpu");
    const wasm = await grad("wasm");
    assertClose(wasm, cpu, { rtol: 1e-4, atol: 1e-4, what: JSON.stringify(c) });
  }
});
