import { test } from "node:test";
import assert from "node:assert/strict";
import "@tensorflow/tfjs-backend-cpu";
import { createRng } from "@likeness/core";
import { assertClose } from "@likeness/core/testing";
import { tf, type TfBackendName, useTfBackend } from "@likeness/tf";
import { isLikenessWasmKernel, registerLikenessWasmKernels } from "@likeness/tfwasm";
import {
  _EXPLORE,
  _EXPLORE_EARLY,
  _IN_PLACE,
  _rowBucket,
  _TFJS,
  _TFJS_WARM_RUNS,
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

test("matmul way chooser: warms in place and the Workers once per process, tfjs once per shape, keeps the fastest", () => {
  const c = new _WayChooser();
  const ways = [_IN_PLACE, _WORKERS, _TFJS];
  const run = (key: string, times: Record<number, number>) => {
    const w = c.pick(key, ways);
    c.record(key, w, times[w]);
    return w;
  };
  const times = { [_IN_PLACE]: 2, [_WORKERS]: 1, [_TFJS]: 3 };
  // First shape: in place and the Workers run 2 uncounted + 1 counted times, tfjs 1 + 1.
  const first = Array.from({ length: 2 * (_WARM_RUNS + 1) + _TFJS_WARM_RUNS + 1 }, () => run("s", times));
  assert.deepEqual(first, [
    ...Array(_WARM_RUNS + 1).fill(_IN_PLACE),
    ...Array(_WARM_RUNS + 1).fill(_WORKERS),
    ...Array(_TFJS_WARM_RUNS + 1).fill(_TFJS),
  ]);
  assert.equal(run("s", times), _WORKERS, "then the fastest");
  // A new shape: in place and the Workers are warm already (one run each); tfjs packs its weight again.
  const second = Array.from({ length: 2 + _TFJS_WARM_RUNS + 1 }, () => run("t", times));
  assert.deepEqual(second, [_IN_PLACE, _WORKERS, ...Array(_TFJS_WARM_RUNS + 1).fill(_TFJS)]);
  assert.equal(run("t", times), _WORKERS);
  assert.equal(c.pick("u", [_WORKERS]), _WORKERS, "only the ways offered");
});

test("matmul way chooser: a new row count starts from its family's times, replaced by its own", () => {
  const c = new _WayChooser();
  const ways = [_IN_PLACE, _WORKERS];
  const run = (key: string, times: Record<number, number>) => {
    const w = c.pick(key, ways, key.split(" ")[1]);
    c.record(key, w, times[w]);
    return w;
  };
  const fast = { [_IN_PLACE]: 2, [_WORKERS]: 1 };
  while (run("64 f", fast) !== _WORKERS || c.pick("64 f", ways, "f") !== _WORKERS);
  // Another row count of the family: the Workers at once, no way tried first.
  const next = Array.from({ length: _EXPLORE_EARLY - 1 }, () => run("128 f", fast));
  assert.ok(next.every((w) => w === _WORKERS), `picks ${next}`);
  // Its own times replace the lent ones: here the Workers turn out slow, and in place wins.
  for (let i = 0; i < _WINDOW; i++) c.record("128 f", _WORKERS, 9);
  assert.equal(c.pick("128 f", ways, "f"), _IN_PLACE, "in place's lent time (2) beats the Workers' own (9)");
  // Another family starts from nothing: each way is measured first (once: both are warm by now).
  assert.equal(run("256 g", fast), _IN_PLACE);
  assert.equal(run("256 g", fast), _WORKERS);
  assert.equal(run("256 g", fast), _WORKERS);
});

test("matmul way chooser: retries another way after 4 products, doubling the gap up to 16 while the choice holds, back to 4 when a retry wins", () => {
  const c = new _WayChooser();
  const ways = [_IN_PLACE, _WORKERS];
  const times = { [_IN_PLACE]: 2, [_WORKERS]: 1 };
  const picks: number[] = [];
  const run = () => {
    const w = c.pick("s", ways);
    c.record("s", w, times[w]);
    picks.push(w);
    return w;
  };
  while (picks.filter((w) => w === _WORKERS).length < _WARM_RUNS + 1) run();
  picks.length = 0;
  for (let i = 0; i < 60; i++) run();
  // Products (1-based, from the first choice) that tried in place: the first within 4 products of the
  // choice, then gaps of 8, 16, 16 (each try lost).
  const tries = picks.flatMap((w, i) => (w === _IN_PLACE ? [i + 1] : []));
  assert.ok(tries[0] <= _EXPLORE_EARLY + 1, `first try at ${tries[0]}`);
  assert.deepEqual(
    tries.slice(1).map((t, i) => t - tries[i]),
    [2 * _EXPLORE_EARLY, _EXPLORE, _EXPLORE],
    `tries at ${tries}`,
  );
  // The load changes: in place is now faster. Its next try wins, and another way is tried 4 products later.
  times[_IN_PLACE] = 0.5;
  picks.length = 0;
  while (run() !== _IN_PLACE);
  const won = picks.length;
  assert.ok(won <= _EXPLORE, `in place tried again after ${won} products`);
  for (let i = 0; i < 2 * _EXPLORE_EARLY; i++) run();
  const after = picks.slice(won);
  assert.equal(after.indexOf(_WORKERS), _EXPLORE_EARLY - 1, `after the win: ${after}`);
  assert.equal(after.filter((w) => w === _WORKERS).length, 1, "then the gap doubles to 8");
  // One slow run (the thread descheduled) does not move the choice: the least of the last few counts.
  c.record("s", _IN_PLACE, 50);
  assert.equal(c.pick("s", ways), _IN_PLACE);
  // In place slows down for good: the Workers win once in place's last runs are all slow.
  for (let i = 0; i < _WINDOW; i++) c.record("s", _IN_PLACE, 9);
  assert.equal(c.pick("s", ways), _WORKERS);
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

test("BatchMatMul on wasm (likeness): a frozen weight over many products, and a new weight in its place, give cpu's results", async () => {
  // The Workers keep a B they see a third time under the same tensor (MATMUL_RESIDENT_AFTER): a weight
  // disposed and replaced by another (maybe at the same tfjs heap offset) must not be read from the kept copy.
  await registerLikenessWasmKernels({ replace: true });
  const [m, k, n] = [150, 96, 80];
  const product = async (backend: TfBackendName, seed: number, weightSeed: number, calls: number) => {
    await useTfBackend(backend);
    const w = uniform(weightSeed, [k, n]);
    const wt = uniform(weightSeed + 1, [n, k]);
    const out: Float32Array[] = [];
    for (let i = 0; i < calls; i++) {
      const r = tf.tidy(
        () => [tf.matMul(uniform(seed + i, [m, k]), w), tf.matMul(uniform(seed - i, [m, k]), wt, false, true)],
      );
      for (const t of r) out.push(Float32Array.from(t.dataSync()));
      tf.dispose(r);
    }
    tf.dispose([w, wt]);
    return out;
  };
  for (const weightSeed of [100, 200]) {
    const wasm = await product("wasm", 7, weightSeed, 40);
    const cpu = await product("cpu", 7, weightSeed, 40);
    for (let i = 0; i < cpu.length; i++) {
      assertClose(wasm[i], cpu[i], { rtol: 1e-5, atol: 1e-5, what: `weight ${weightSeed}, product ${i}` });
    }
  }
});

test("_rowBucket: the power of two at or above the row count", () => {
  assert.deepEqual([1, 2, 3, 4, 5, 17, 64, 65, 1269].map(_rowBucket), [1, 2, 4, 4, 8, 32, 64, 128, 2048]);
});
