import { test } from "node:test";
import assert from "node:assert/strict";
import "@tensorflow/tfjs-backend-cpu";
import { createRng } from "@likeness/core";
import { assertClose } from "@likeness/core/testing";
import { tf, type TfBackendName, useTfBackend } from "@likeness/tf";
import { isLikenessWasmKernel, registerLikenessWasmKernels } from "@likeness/tfwasm";
import {
  _EARLY_CALLS,
  _EXPLORE,
  _EXPLORE_EARLY,
  _IN_PLACE,
  _rowBucket,
  _TFJS,
  _WARM_RUNS,
  _WayChooser,
  _WINDOW,
  _WORKERS,
} from "./_matmul.ts";

function uniform(seed: number, shape: number[]): tf.Tensor {
  const rng = createRng(seed);
  const n = shape.reduce((p, d) => p * d, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => rng.next() * 2 - 1), shape);
}

async function on(backend: TfBackendName, f: () => tf.Tensor[]): Promise<Float32Array[]> {
  await useTfBackend(backend);
  const out = tf.tidy(f);
  const data = out.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(out);
  return data;
}

async function sameAsCpu(f: () => tf.Tensor[], what: string, tol = 1e-5): Promise<void> {
  await registerLikenessWasmKernels({ replace: true });
  assert.ok(isLikenessWasmKernel("BatchMatMul") && isLikenessWasmKernel("_FusedMatMul"), "ours are registered");
  const wasm = await on("wasm", f);
  const cpu = await on("cpu", f);
  assert.equal(wasm.length, cpu.length);
  for (let i = 0; i < cpu.length; i++) assertClose(wasm[i], cpu[i], { rtol: tol, atol: tol, what: `${what} [${i}]` });
}

/**
 * M, K, N hitting every tail: M % 4 and M % 6 from 0 to 5 (row tiles; M ≥ 512 with A transposed packs
 * strips of A), N % 8 (column panel), K past one 256 block.
 */
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [2, 9, 11],
  [3, 5, 7],
  [4, 16, 8],
  [5, 17, 9],
  [8, 257, 24],
  [13, 20, 9],
  [17, 300, 65],
  [64, 33, 16],
  [515, 70, 9],
];

test("BatchMatMul on wasm (likeness) matches tfjs-backend-cpu: every tail, both transposes", async () => {
  let seed = 1;
  await sameAsCpu(() => {
    seed = 1;
    return SHAPES.flatMap(([m, k, n]) =>
      [false, true].flatMap((ta) =>
        [false, true].map((tb) =>
          tf.matMul(uniform(seed++, ta ? [k, m] : [m, k]), uniform(seed++, tb ? [n, k] : [k, n]), ta, tb)
        )
      )
    );
  }, "matMul");
});

test("BatchMatMul on wasm (likeness) matches cpu for batches, broadcast batches and rank 4", async () => {
  await sameAsCpu(() => [
    tf.matMul(uniform(1, [3, 5, 7]), uniform(2, [3, 7, 9])),
    tf.matMul(uniform(3, [3, 5, 7]), uniform(4, [1, 9, 7]), false, true),
    tf.matMul(uniform(5, [1, 7, 5]), uniform(6, [4, 7, 9]), true, false),
    tf.matMul(uniform(7, [2, 3, 5, 7]), uniform(8, [2, 3, 7, 6])),
    tf.matMul(uniform(9, [2, 3, 5, 7]), uniform(10, [7, 6])),
  ], "batched");
});

test("_FusedMatMul on wasm (likeness) matches cpu: bias and every fused activation", async () => {
  const acts = ["linear", "relu", "relu6", "leakyrelu", "prelu", "sigmoid", "elu"] as const;
  await sameAsCpu(() =>
    acts.flatMap((activation, i) => [
      tf.fused.matMul({
        a: uniform(20 + i, [13, 11]).mul(3),
        b: uniform(30 + i, [11, 10]),
        bias: uniform(40 + i, [10]),
        activation,
        preluActivationWeights: activation === "prelu" ? uniform(50 + i, [10]) : undefined,
        leakyreluAlpha: 0.3,
      }),
      tf.fused.matMul({
        a: uniform(60 + i, [9, 13]).mul(3),
        b: uniform(70 + i, [10, 9]),
        transposeA: true,
        transposeB: true,
        bias: tf.scalar(0.25),
        activation,
        preluActivationWeights: activation === "prelu" ? tf.scalar(0.1) : undefined,
      }),
    ]), "fused");
});

test("MLP gradients (dense layers through matMul and fused matMul) on wasm (likeness) equal cpu's", async () => {
  const x = () => uniform(1, [37, 29]);
  const w1 = () => uniform(2, [29, 21]);
  const b1 = () => uniform(3, [21]);
  const w2 = () => uniform(4, [21, 6]);
  await sameAsCpu(
    () => {
      const loss = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
        tf.sum(tf.square(tf.matMul(tf.fused.matMul({ a: x(), b: a, bias: b, activation: "relu" }), c))) as tf.Scalar;
      return tf.grads(loss)([w1(), b1(), w2()]);
    },
    "gradients",
    1e-4,
  );
});

test("BatchMatMul outside what likeness covers falls back to tfjs's kernel", async () => {
  await registerLikenessWasmKernels({ replace: true });
  await useTfBackend("wasm");
  // Batch shapes [2, 1] × [1, 3] broadcast to [2, 3]: not a batch of 1, so tfjs-backend-wasm runs it.
  const got = tf.tidy(() => tf.matMul(uniform(1, [2, 1, 2, 3]), uniform(2, [1, 3, 3, 2])).shape);
  assert.deepEqual(got, [2, 3, 2, 2]);
});

test("matmul way chooser: tries each way three times, keeps the fastest, retries another every 4th product of a new shape, then every 16th", () => {
  const c = new _WayChooser();
  const ways = [_IN_PLACE, _WORKERS, _TFJS];
  // Each way three times: its first two runs (compiling, optimising, starting Workers) are not counted.
  for (const [way, ms] of [[_IN_PLACE, 2], [_WORKERS, 1], [_TFJS, 3]] as const) {
    for (let warm = 0; warm < _WARM_RUNS; warm++) {
      assert.equal(c.pick("s", ways), way);
      c.record("s", way, 100);
    }
    assert.equal(c.pick("s", ways), way);
    c.record("s", way, ms);
  }
  // Products 10 .. _EARLY_CALLS of the shape: another way every 4th (12, 16, …, 64), the others in turn.
  const early: number[] = [];
  const warmCalls = 3 * (_WARM_RUNS + 1);
  for (let i = warmCalls + 1; i <= _EARLY_CALLS; i++) early.push(c.pick("s", ways));
  const tries = Math.floor(_EARLY_CALLS / _EXPLORE_EARLY) - Math.floor(warmCalls / _EXPLORE_EARLY);
  assert.equal(early.filter((w) => w !== _WORKERS).length, tries, "the fastest, but once in 4");
  assert.equal(early.filter((w) => w === _IN_PLACE).length, tries / 2, "the others in turn");
  assert.equal(early[0], _WORKERS);
  // Then once in 16.
  const picked: number[] = [];
  for (let i = 0; i < 4 * _EXPLORE; i++) picked.push(c.pick("s", ways));
  assert.equal(picked.filter((w) => w === _WORKERS).length, 4 * _EXPLORE - 4, "the fastest, but once in 16");
  assert.equal(picked.filter((w) => w === _IN_PLACE).length, 2, "the others in turn");
  assert.equal(picked.filter((w) => w === _TFJS).length, 2);
  assert.ok(picked.slice(0, _EXPLORE - 2).every((w) => w === _WORKERS));
  // One slow run (the thread descheduled) does not move the choice: the least of the last few counts.
  c.record("s", _WORKERS, 50);
  assert.equal(c.pick("s", ways), _WORKERS);
  // The Workers slow down for good (a busy machine): in place wins once their last runs are all slow.
  for (let i = 0; i < _WINDOW - 2; i++) c.record("s", _WORKERS, 5);
  assert.equal(c.pick("s", ways), _WORKERS, "one fast run is still among the last ones");
  c.record("s", _WORKERS, 5);
  assert.equal(c.pick("s", ways), _IN_PLACE);
  assert.equal(c.pick("s", [_WORKERS]), _WORKERS, "only the ways offered");
  assert.equal(c.pick("other", ways), _IN_PLACE, "shapes are chosen separately");
});

test("BatchMatMul on wasm (likeness): large products give cpu's result whichever way they run", async () => {
  // 160 × 96 × 72 = 1.1 M multiply-adds: above the Workers' threshold, so every way runs over 40 calls.
  await registerLikenessWasmKernels({ replace: true });
  await useTfBackend("wasm");
  const [m, k, n] = [160, 96, 72];
  const f = () => [
    tf.matMul(uniform(1, [m, k]), uniform(2, [k, n])),
    tf.matMul(uniform(3, [k, m]), uniform(4, [n, k]), true, true),
  ];
  const cpu = await on("cpu", f);
  for (let i = 0; i < 40; i++) {
    const wasm = await on("wasm", f);
    for (let j = 0; j < cpu.length; j++) {
      assertClose(wasm[j], cpu[j], { rtol: 1e-5, atol: 1e-5, what: `call ${i} [${j}]` });
    }
  }
});

test("_rowBucket: the power of two at or above the row count", () => {
  assert.deepEqual([1, 2, 3, 4, 5, 17, 64, 65, 1269].map(_rowBucket), [1, 2, 4, 4, 8, 32, 64, 128, 2048]);
});
