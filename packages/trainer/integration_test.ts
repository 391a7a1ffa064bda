// End to end with the project's real loss, miner and sampler (owned by other packages).
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConvNetEncoder, SimilarityModel } from "@likeness/models";
import { PmlTripletMarginLoss } from "@likeness/losses";
import { TripletMarginMiner } from "@likeness/miners";
import { mPerClassSampler } from "@likeness/samplers";
import { fit } from "@likeness/trainer";
import { tf, useTfBackend } from "@likeness/tf";

test("a convnet trains on wasm with TripletMarginLoss, TripletMarginMiner and an m-per-class sampler", async () => {
  await useTfBackend("wasm");
  // 4 classes of 8x8 "images": a bright bar in a class-specific row band, plus noise
  const n = 32;
  const data = new Float32Array(n * 64);
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 4;
    labels.push(c);
    for (let k = 0; k < 64; k++) {
      data[i * 64 + k] = (Math.floor(k / 8) >> 1 === c ? 1 : 0) + 0.2 * Math.sin(i * 13 + k * 7);
    }
  }
  const inputs = tf.tensor4d(data, [n, 8, 8, 1]);
  const model = new SimilarityModel(
    new ConvNetEncoder({ inputShape: [8, 8, 1], conv: [{ filters: 4, pool: 2 }], outputDim: 8, seed: 2 }),
    undefined,
    { normalize: true },
  );
  const loss = new PmlTripletMarginLoss({ margin: 0.2 });
  const result = await fit(model, { inputs, labels }, {
    loss,
    epochs: 4,
    sampler: mPerClassSampler(labels, { m: 4, batchSize: 16, seed: 1 }),
    miner: new TripletMarginMiner({ margin: 0.2, type: "all" }),
    learningRate: 0.01,
    seed: 1,
  });
  assert.equal(result.epochs, 4);
  const h = result.history;
  assert.ok(h[3].loss < h[0].loss, `loss ${h[0].loss} -> ${h[3].loss}`);
  // 1-NN on the training set is perfect for this easy problem
  const m = await model.encode(inputs);
  let correct = 0;
  for (let i = 0; i < n; i++) {
    let best = -Infinity, arg = -1;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      let s = 0;
      for (let k = 0; k < m.cols; k++) s += m.data[i * m.cols + k] * m.data[j * m.cols + k];
      if (s > best) [best, arg] = [s, j];
    }
    if (labels[arg] === labels[i]) correct++;
  }
  assert.ok(correct / n >= 0.9, `1-NN accuracy ${correct / n}`);
});
