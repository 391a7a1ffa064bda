import { test } from "node:test";
import assert from "node:assert/strict";
import {
  buildHead,
  EmptyHead,
  GatedHead,
  type Head,
  LinearHead,
  SequentialHead,
  SkipConnectionHead,
  SoftmaxEmbeddingsHead,
  StackedProjectionHead,
  WideningHead,
} from "@likeness/models";
import { tf, useTfBackend } from "@likeness/tf";
import { assertClose } from "@likeness/core/testing";

const X = [[0.5, -1, 2], [1, 0, -0.5]];
const sig = (v: number) => 1 / (1 + Math.exp(-v));
function weights(h: Head): Record<string, Float32Array> {
  return Object.fromEntries(h.getWeights().map((w) => [w.name, w.values]));
}
function affine(x: number[], k: Float32Array, b: Float32Array | undefined, out: number): number[] {
  return Array.from({ length: out }, (_, j) => x.reduce((s, v, i) => s + v * k[i * out + j], b ? b[j] : 0));
}
async function run(h: Head): Promise<number[][]> {
  await useTfBackend("wasm");
  return (await h.forward(tf.tensor2d(X)).array()) as number[][];
}

test("Empty, Linear and Gated heads match brute force", async () => {
  assert.deepEqual(await run(new EmptyHead({ inputDim: 3 })), X);
  const lin = new LinearHead({ inputDim: 3, outputDim: 2, seed: 4 });
  const w = weights(lin);
  w.bias[0] = 0.25;
  lin.setWeights([{ name: "kernel", shape: [3, 2], values: w.kernel }, { name: "bias", shape: [2], values: w.bias }]);
  assertClose(await run(lin), X.map((x) => affine(x, w.kernel, w.bias, 2)));
  const gated = new GatedHead({ inputDim: 3 });
  assertClose(await run(gated), X.map((x) => x.map((v) => v * sig(2))));
  const noBias = new LinearHead({ inputDim: 3, outputDim: 2, bias: false });
  assert.deepEqual(noBias.getWeights().map((t) => t.name), ["kernel"]);
});

test("SkipConnection, Widening and StackedProjection heads match brute force", async () => {
  const skip = new SkipConnectionHead({ inputDim: 3, seed: 2 });
  const s = weights(skip);
  assertClose(await run(skip), X.map((x) => affine(x, s.kernel, s.bias, 3).map((v, j) => v * sig(-4) + x[j])), {
    rtol: 1e-5,
  });
  const wide = new WideningHead({ inputDim: 3, expansionFactor: 2, activation: "tanh", seed: 5 });
  assert.equal(wide.outputDim, 6);
  const w = weights(wide);
  assertClose(await run(wide), X.map((x) => affine(x, w.kernel, w.bias, 6).map(Math.tanh)), { rtol: 1e-5 });
  const stack = new StackedProjectionHead({ inputDim: 3, outputSizes: [4, 2], seed: 6 });
  const p = weights(stack);
  const expect = X.map((x) =>
    affine(
      affine(x, p["dense0/kernel"], p["dense0/bias"], 4).map((v) => Math.max(0, v)),
      p["dense1/kernel"],
      p["dense1/bias"],
      2,
    )
  );
  assertClose(await run(stack), expect, { rtol: 1e-5 });
});

test("SoftmaxEmbeddings head: each group is a softmax summing to 1", async () => {
  const head = new SoftmaxEmbeddingsHead({ inputDim: 3, outputGroups: 2, outputSizePerGroup: 3, seed: 1 });
  const w = weights(head);
  const out = await run(head);
  X.forEach((x, r) => {
    const z = affine(x, w.kernel, w.bias, 6);
    for (const g of [0, 1]) {
      const zs = z.slice(g * 3, g * 3 + 3);
      const m = Math.max(...zs);
      const ex = zs.map((v) => Math.exp(v - m));
      const sum = ex.reduce((a, b) => a + b, 0);
      assertClose(out[r].slice(g * 3, g * 3 + 3), ex.map((v) => v / sum), { rtol: 1e-5 });
    }
  });
});

test("SequentialHead chains heads, checks widths and round-trips through its config", async () => {
  const seq = new SequentialHead([
    new LinearHead({ inputDim: 3, outputDim: 4, seed: 1 }),
    new GatedHead({ inputDim: 4 }),
  ]);
  assert.equal(seq.outputDim, 4);
  assert.deepEqual(seq.getWeights().map((w) => w.name), ["0/kernel", "0/bias", "1/gates"]);
  const copy = buildHead(seq.config());
  copy.setWeights(seq.getWeights());
  assertClose(await run(copy), await run(seq));
  assert.throws(
    () => new SequentialHead([new LinearHead({ inputDim: 3, outputDim: 4 }), new GatedHead({ inputDim: 5 })]),
    (e: Error & { code?: string }) => e.code === "SHAPE_MISMATCH",
  );
  assert.throws(
    () => buildHead({ type: "nope" }),
    (e: Error & { code?: string }) => e.code === "UNKNOWN_NAME" && /registerHead\("nope"/.test(e.message),
  );
});

test("every head type restores from its config with identical outputs", async () => {
  const heads: Head[] = [
    new EmptyHead({ inputDim: 3 }),
    new LinearHead({ inputDim: 3, outputDim: 2, seed: 9 }),
    new GatedHead({ inputDim: 3 }),
    new SkipConnectionHead({ inputDim: 3, seed: 9 }),
    new WideningHead({ inputDim: 3, seed: 9 }),
    new StackedProjectionHead({ inputDim: 3, outputSizes: [5, 2], seed: 9 }),
    new SoftmaxEmbeddingsHead({ inputDim: 3, outputGroups: 2, outputSizePerGroup: 2, seed: 9 }),
  ];
  for (const h of heads) {
    const c = JSON.parse(JSON.stringify(h.config()));
    const again = buildHead(c);
    again.setWeights(h.getWeights());
    assert.equal(again.type, h.type);
    assertClose(await run(again), await run(h), { what: h.type });
  }
});

test("dropout: identity at inference, seeded inverted dropout while training", async () => {
  await useTfBackend("wasm");
  const head = new LinearHead({ inputDim: 3, outputDim: 2, seed: 1, dropout: 0.5 });
  const x = tf.tensor2d(X);
  const plain = await new LinearHead({ inputDim: 3, outputDim: 2, seed: 1 }).forward(x).array();
  assert.deepEqual(await head.forward(x).array(), plain);
  const a = await head.forward(x, { training: true, seed: 5 }).array();
  assert.deepEqual(await head.forward(x, { training: true, seed: 5 }).array(), a);
  assert.notDeepEqual(a, plain);
  assert.equal(buildHead(head.config()).config().dropout, 0.5);
  // the mask keeps an input (scaled by 2) or zeroes it
  const g = new GatedHead({ inputDim: 3, dropout: 0.5 });
  const out = (await g.forward(tf.ones([4, 3]), { training: true, seed: 9 }).data()) as Float32Array;
  const kept = 2 * sig(2);
  assert.ok(Array.from(out).every((v) => Math.abs(v) < 1e-7 || Math.abs(v - kept) < 1e-5), String(out));
  assert.throws(
    () => new LinearHead({ inputDim: 3, outputDim: 2, dropout: 1 }),
    (e: Error & { code?: string }) => e.code === "INVALID_ARGUMENT",
  );
});
