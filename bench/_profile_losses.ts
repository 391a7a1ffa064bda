import { createRng, type Label } from "@likeness/core";
import { tf, useTfBackend } from "@likeness/tf";
import { type Loss, type LossTarget, PmlContrastiveLoss, PmlMultiSimilarityLoss, PmlNTXentLoss, PmlTripletMarginLoss } from "@likeness/losses";
import { BatchHardMiner, MultiSimilarityMiner } from "@likeness/miners";
await useTfBackend("wasm");
const B = Number(Deno.args[0] ?? 1024), D = 256;
const which = (Deno.args[1] ?? "all").split(",");
const rng = createRng(B + D);
const classes = B / 4;
const ids = rng.shuffle(Array.from({ length: B }, (_, i) => i % classes));
const centres = Array.from({ length: classes }, () => Array.from({ length: D }, () => rng.normal()));
const data = new Float32Array(B * D);
for (let i = 0; i < B; i++) for (let k = 0; k < D; k++) data[i * D + k] = centres[ids[i]][k] + rng.normal();
const labels: Label[] = ids;
const x = tf.tensor2d(data, [B, D]);
async function step(loss: Loss, target: LossTarget) {
  const { value, grad } = tf.valueAndGrad((e: tf.Tensor) => loss.compute(e as tf.Tensor2D, target))(x);
  const [v, g] = await Promise.all([value.data(), grad.data()]);
  tf.dispose([value, grad]);
  let s = 0; for (const q of g as Float32Array) s += Math.abs(q);
  return [v[0], s];
}
async function time(name: string, fn: () => Promise<unknown>, prof = false) {
  const t0 = performance.now();
  const r = await fn();
  console.log(name, (performance.now() - t0).toFixed(1), "ms", JSON.stringify(r));
  if (prof) {
    const p = await tf.profile(fn as () => Promise<tf.Tensor>);
    const agg = new Map<string, number>();
    for (const k of p.kernels) agg.set(k.name, (agg.get(k.name) ?? 0) + (k.kernelTimeMs as number));
    console.log([...agg].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, v]) => `${k}:${v.toFixed(0)}`).join(" "));
  }
}
const prof = Deno.args[2] === "prof";
const bh = new BatchHardMiner();
const msm = new MultiSimilarityMiner({ epsilon: 0.1 });
const mineBH = async () => bh.mine({ data: await x.data() as Float32Array, rows: B, cols: D }, labels);
const mineMS = async () => msm.mine({ data: await x.data() as Float32Array, rows: B, cols: D }, labels);
if (which.includes("all") || which.includes("mine")) {
  await time("mineBH", async () => (await mineBH()).triplets?.length);
  await time("mineBH", async () => (await mineBH()).triplets?.length);
  await time("mineMS", async () => { const r = await mineMS(); return [r.positivePairs?.length, r.negativePairs?.length]; });
}
if (which.includes("all") || which.includes("triplet")) {
  const ind = await mineBH();
  await time("triplet+bh", () => step(new PmlTripletMarginLoss(), { labels, indices: ind }), prof);
}
if (which.includes("all") || which.includes("contrastive")) await time("contrastive", () => step(new PmlContrastiveLoss(), { labels }), prof);
if (which.includes("all") || which.includes("ntxent")) await time("ntxent", () => step(new PmlNTXentLoss(), { labels }), prof);
if (which.includes("all") || which.includes("ms")) {
  await time("ms", () => step(new PmlMultiSimilarityLoss(), { labels }), prof);
  const ind = await mineMS();
  await time("ms+miner", () => step(new PmlMultiSimilarityLoss(), { labels, indices: ind }), prof);
}
