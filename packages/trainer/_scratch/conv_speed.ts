import { ConvNetEncoder, SimilarityModel } from "@likeness/models";
import { PmlTripletMarginLoss } from "@likeness/losses";
import { TripletMarginMiner } from "@likeness/miners";
import { fit } from "@likeness/trainer";
import { tf, useTfBackend } from "@likeness/tf";
await useTfBackend("cpu");
const n = 64 * 4;
const x = tf.randomUniform([n, 28, 28, 1]);
const labels = Array.from({ length: n }, (_, i) => i % 10);
for (
  const conv of [[{ filters: 32 }, { filters: 64, pool: 2 }], [{ filters: 16, pool: 2 }, { filters: 32, pool: 2 }]]
) {
  const model = new SimilarityModel(new ConvNetEncoder({ inputShape: [28, 28, 1], conv, outputDim: 128, seed: 1 }));
  const t0 = performance.now();
  const r = await fit(model, new PmlTripletMarginLoss({ margin: 0.1 }), { inputs: x, labels }, {
    epochs: 1,
    batchSize: 64,
    miner: new TripletMarginMiner({ margin: 0.1, type: "all" }),
  });
  console.log(JSON.stringify(conv), "ms/step", (performance.now() - t0) / r.steps);
}
