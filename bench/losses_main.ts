/**
 * Loss benchmark: forward plus backward per training step on tfjs-wasm for the main losses at
 * B=256 D=128 and B=1024 D=256, and the mining that feeds them, once through likeness's
 * WebAssembly kernels (`@likeness/miners` default backend) and once through tfjs ops.
 *
 * Every step starts from a B×D embedding tensor and ends with the loss value and its gradient
 * read back (mining included where a miner is used). Labels: B/4 classes, 4 rows each;
 * embeddings are clustered (class centre plus noise of the same scale). Each measurement is the
 * median of up to 5 runs after one warm-up (about 3 s at most); a step slower than 2 s reports its
 * single warm-up run; no new measurement starts after 100 s, so the run stays under 3 minutes.
 *
 * Output: one JSON line per measurement `{bench, impl, runtime, shape, ms}` on stdout and in
 * `runs/bench/losses.jsonl` (which keeps the other runtime's rows of an earlier run), then the
 * kernel-vs-tfjs ratios on stderr.
 *
 * Run: `deno task bench:losses` (or `bun run bench/losses_main.ts`).
 *
 * @module
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createRng, type Label } from "@likeness/core";
import { tf, useTfBackend } from "@likeness/tf";
import {
  type Loss,
  type LossTarget,
  type MinedIndices,
  PmlContrastiveLoss,
  PmlMultiSimilarityLoss,
  PmlNTXentLoss,
  PmlProxyAnchorLoss,
  PmlTripletMarginLoss,
} from "@likeness/losses";
import { BatchHardMiner, MultiSimilarityMiner } from "@likeness/miners";

/** One measurement. */
interface Row {
  bench: string;
  impl: string;
  runtime: string;
  shape: string;
  ms: number;
}

const RUNTIME = "Bun" in globalThis ? "bun" : "deno";
const START = performance.now();
const TOTAL_BUDGET_MS = 100_000;
const rows: Row[] = [];

async function median(fn: () => Promise<unknown>): Promise<number> {
  const w0 = performance.now();
  await fn();
  const warm = performance.now() - w0;
  // a step slower than 2 s is reported from its single (warm-up) run to bound the run time
  if (warm > 2000) return warm;
  const t: number[] = [];
  const begin = performance.now();
  while (t.length < 5 && (t.length < 2 || performance.now() - begin < 3000)) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
}

async function measure(bench: string, impl: string, shape: string, fn: () => Promise<unknown>): Promise<void> {
  if (performance.now() - START > TOTAL_BUDGET_MS) {
    console.error(`skip ${bench}/${impl} ${shape}: time budget spent`);
    return;
  }
  const ms = Math.round((await median(fn)) * 100) / 100;
  const row = { bench, impl, runtime: RUNTIME, shape, ms };
  rows.push(row);
  console.log(JSON.stringify(row));
}

/** Batch-hard mining with tfjs ops: masked argmax / argmin on the normalised L2 matrix. */
async function tfBatchHard(x: tf.Tensor2D, same: tf.Tensor2D): Promise<MinedIndices> {
  const b = x.shape[0];
  const [p, n, vp, vn] = tf.tidy(() => {
    const u = tf.div(x, tf.norm(x, 2, 1, true));
    const sq = tf.relu(tf.sub(2, tf.mul(2, tf.matMul(u, u, false, true))));
    const d = tf.sqrt(sq);
    const eye = tf.eye(b);
    const pos = tf.mul(same, tf.sub(1, eye));
    const neg = tf.sub(1, same);
    const big = 1e9;
    const pd = tf.add(tf.mul(d, pos), tf.mul(tf.sub(pos, 1), big));
    const nd = tf.add(tf.mul(d, neg), tf.mul(tf.sub(1, neg), big));
    return [tf.argMax(pd, 1), tf.argMin(nd, 1), tf.any(tf.cast(pos, "bool"), 1), tf.any(tf.cast(neg, "bool"), 1)];
  });
  const [pi, ni, pv, nv] = await Promise.all([p.data(), n.data(), vp.data(), vn.data()]);
  tf.dispose([p, n, vp, vn]);
  const triplets: [number, number, number][] = [];
  for (let a = 0; a < b; a++) if (pv[a] && nv[a]) triplets.push([a, pi[a], ni[a]]);
  return { triplets };
}

/** Multi-similarity mining with tfjs ops on the cosine similarity matrix. */
async function tfMultiSimilarity(x: tf.Tensor2D, same: tf.Tensor2D, eps = 0.1): Promise<MinedIndices> {
  const b = x.shape[0];
  const [keepPos, keepNeg] = tf.tidy(() => {
    const u = tf.div(x, tf.norm(x, 2, 1, true));
    const s = tf.matMul(u, u, false, true);
    const pos = tf.mul(same, tf.sub(1, tf.eye(b)));
    const neg = tf.sub(1, same);
    const big = 1e9;
    const minPos = tf.min(tf.add(tf.mul(s, pos), tf.mul(tf.sub(1, pos), big)), 1, true);
    const maxNeg = tf.max(tf.sub(tf.mul(s, neg), tf.mul(tf.sub(1, neg), big)), 1, true);
    const kp = tf.logicalAnd(tf.cast(pos, "bool"), tf.less(tf.sub(s, eps), maxNeg));
    const kn = tf.logicalAnd(tf.cast(neg, "bool"), tf.greater(tf.add(s, eps), minPos));
    return [kp, kn];
  });
  const [kp, kn] = await Promise.all([keepPos.data(), keepNeg.data()]);
  tf.dispose([keepPos, keepNeg]);
  const positivePairs: [number, number][] = [];
  const negativePairs: [number, number][] = [];
  for (let i = 0; i < b * b; i++) {
    if (kp[i]) positivePairs.push([Math.floor(i / b), i % b]);
    if (kn[i]) negativePairs.push([Math.floor(i / b), i % b]);
  }
  return { positivePairs, negativePairs };
}

/** Forward + backward of a loss; reads the value and the gradient back. */
async function step(loss: Loss, x: tf.Tensor2D, target: LossTarget): Promise<number> {
  const { value, grad } = tf.valueAndGrad((e: tf.Tensor) => loss.compute(e as tf.Tensor2D, target))(x);
  const [v] = await Promise.all([value.data(), grad.data()]);
  tf.dispose([value, grad]);
  return v[0];
}

async function benchShape(b: number, d: number): Promise<void> {
  const shape = `B=${b} D=${d}`;
  const rng = createRng(b + d);
  const classes = b / 4;
  const ids = rng.shuffle(Array.from({ length: b }, (_, i) => i % classes));
  // clustered embeddings (class centre + noise of the same scale), as in mid-training batches
  const centres = Array.from({ length: classes }, () => Array.from({ length: d }, () => rng.normal()));
  const data = new Float32Array(b * d);
  for (let i = 0; i < b; i++) for (let k = 0; k < d; k++) data[i * d + k] = centres[ids[i]][k] + rng.normal();
  const labels: Label[] = ids;
  const x = tf.tensor2d(data, [b, d]);
  const sameData = new Float32Array(b * b);
  for (let i = 0; i < b; i++) for (let j = 0; j < b; j++) sameData[i * b + j] = ids[i] === ids[j] ? 1 : 0;
  const same = tf.tensor2d(sameData, [b, b]);

  const batchHard = new BatchHardMiner();
  const msMiner = new MultiSimilarityMiner({ epsilon: 0.1 });
  // WebAssembly kernels read the embeddings back first, as a training step would
  const kernelsBatchHard = async () =>
    batchHard.mine({ data: await x.data() as Float32Array, rows: b, cols: d }, labels);
  const kernelsMs = async () => msMiner.mine({ data: await x.data() as Float32Array, rows: b, cols: d }, labels);

  await measure("mine_batch_hard", "kernels", shape, kernelsBatchHard);
  await measure("mine_batch_hard", "tfjs", shape, () => tfBatchHard(x, same));
  await measure("mine_multi_similarity", "kernels", shape, kernelsMs);
  await measure("mine_multi_similarity", "tfjs", shape, () => tfMultiSimilarity(x, same));

  const triplet = new PmlTripletMarginLoss();
  await measure("triplet_margin+batch_hard", "kernels", shape, async () => {
    return step(triplet, x, { labels, indices: await kernelsBatchHard() });
  });
  await measure("triplet_margin+batch_hard", "tfjs", shape, async () => {
    return step(triplet, x, { labels, indices: await tfBatchHard(x, same) });
  });
  // the losses without a miner, then the multi-similarity steps (the slowest at B=1024) last,
  // so that the time budget drops those first
  await measure("contrastive", "tfjs", shape, () => step(new PmlContrastiveLoss(), x, { labels }));
  await measure("ntxent", "tfjs", shape, () => step(new PmlNTXentLoss(), x, { labels }));
  const proxy = new PmlProxyAnchorLoss({ numClasses: classes, embeddingSize: d });
  await measure("proxy_anchor", "tfjs", shape, () => step(proxy, x, { labels }));
  const ms = new PmlMultiSimilarityLoss();
  await measure("multi_similarity+ms_miner", "kernels", shape, async () => {
    return step(ms, x, { labels, indices: await kernelsMs() });
  });
  await measure("multi_similarity+ms_miner", "tfjs", shape, async () => {
    return step(ms, x, { labels, indices: await tfMultiSimilarity(x, same) });
  });
  await measure("multi_similarity", "tfjs", shape, () => step(ms, x, { labels }));
  tf.dispose([x, same, ...proxy.trainableVariables()]);
}

await useTfBackend("wasm");
await benchShape(256, 128);
await benchShape(1024, 256);

// keep the other runtime's rows of an earlier run, so one file holds both Deno and Bun
await mkdir("runs/bench", { recursive: true });
const OUT = "runs/bench/losses.jsonl";
const kept = existsSync(OUT)
  ? (await readFile(OUT, "utf8")).split("\n").filter((l) => l.trim() && JSON.parse(l).runtime !== RUNTIME)
  : [];
await writeFile(OUT, [...kept, ...rows.map((r) => JSON.stringify(r))].join("\n") + "\n");

for (const shape of new Set(rows.map((r) => r.shape))) {
  for (const bench of new Set(rows.map((r) => r.bench))) {
    const k = rows.find((r) => r.shape === shape && r.bench === bench && r.impl === "kernels");
    const t = rows.find((r) => r.shape === shape && r.bench === bench && r.impl === "tfjs");
    if (k && t) console.error(`${shape} ${bench}: tfjs ${t.ms} ms / kernels ${k.ms} ms = ${(t.ms / k.ms).toFixed(2)}x`);
  }
}
console.error(`bench:losses done in ${((performance.now() - START) / 1000).toFixed(1)} s`);
