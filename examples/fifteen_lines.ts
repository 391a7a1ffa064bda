// The README's fifteen-line API example, runnable: deno run -A examples/fifteen_lines.ts
import { useTfBackend } from "@likeness/tf";
import { type ImageSet, loadMnist } from "@likeness/data";
import { MlpEncoder, SimilarityModel } from "@likeness/models";
import { PmlTripletMarginLoss } from "@likeness/losses";
import { TripletMarginMiner } from "@likeness/miners";
import { fit } from "@likeness/trainer";
import { computeAccuracy } from "@likeness/eval";

await useTfBackend("wasm");
const train = await loadMnist({ split: "train", limit: 5000 }), test = await loadMnist({ split: "test", limit: 1000 });
const x = (s: ImageSet) =>
  Array.from({ length: s.count }, (_, i) => Array.from(s.images.subarray(i * 784, (i + 1) * 784), (v) => v / 255));
const model = new SimilarityModel(new MlpEncoder({ inputDim: 784, hidden: [256], outputDim: 64, seed: 1 }));
const options = { epochs: 1, batchSize: 64, seed: 1, miner: new TripletMarginMiner({ type: "semihard" }) };
await fit(model, { inputs: x(train), labels: [...train.labels] }, {
  ...options,
  loss: new PmlTripletMarginLoss({ margin: 0.2 }),
});
const acc = await computeAccuracy({ embeddings: await model.encode(x(test)), labels: [...test.labels] });
console.log("precision@1", acc.metrics.precision_at_1);
await model.save("runs/demo/model", { overwrite: true });
