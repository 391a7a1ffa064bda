import { ConvNetEncoder, MlpEncoder, SimilarityModel } from "@likeness/models";
import { PmlTripletMarginLoss } from "@likeness/losses";
import { TripletMarginMiner } from "@likeness/miners";
import { mPerClassSampler } from "@likeness/samplers";
import { fit, progressReporter } from "@likeness/trainer";
import { useTfBackend } from "@likeness/tf";
await useTfBackend("wasm");
const inputs: number[][] = [];
const labels: number[] = [];
for (let i = 0; i < 64; i++) {
  const c = i % 4;
  inputs.push([c + Math.sin(i) * 0.3, c * c * 0.1 + Math.cos(i) * 0.3, Math.sin(3 * i), c % 2]);
  labels.push(c);
}
const model = new SimilarityModel(new MlpEncoder({ inputDim: 4, hidden: [16], outputDim: 8, seed: 1 }));
const sampler = mPerClassSampler(labels, { m: 4, batchSize: 16, seed: 1 });
const r = await fit(model, new PmlTripletMarginLoss({ margin: 0.1 }), { inputs, labels }, {
  epochs: 3,
  sampler,
  miner: new TripletMarginMiner({ margin: 0.1, type: "semihard" }),
  learningRate: 0.01,
  callbacks: [progressReporter({ write: (t) => Deno.stdout.writeSync(new TextEncoder().encode(t)) })],
});
console.log(r.steps, r.history.map((h) => h.loss));
