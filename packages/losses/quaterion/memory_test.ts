import { test } from "node:test";
import assert from "node:assert/strict";
import { tf, useTfBackend } from "@likeness/tf";
import {
  ArcFaceLoss,
  CenterLoss,
  CircleLoss,
  ContrastiveLoss,
  CosFaceLoss,
  FastAPLoss,
  type Loss,
  type LossTarget,
  MultipleNegativesRankingLoss,
  OnlineContrastiveLoss,
  SoftmaxLoss,
  TripletLoss,
} from "@likeness/losses";
import { randomEmbeddings } from "./_test_util.ts";

await useTfBackend("wasm");

test("Quaterion losses leave no tensors behind (value and gradient, chunked and not)", () => {
  const e = tf.tensor2d(randomEmbeddings(8, 4, 81));
  const labels = [0, 1, 2, 0, 1, 2, 0, 1];
  const pairs: [number, number][] = [[0, 4], [1, 5], [2, 6], [3, 7]];
  const cases: [Loss, LossTarget][] = [
    [new TripletLoss({ mining: "all" }), { labels }],
    [new TripletLoss({ mining: "hard", chunkRows: 3 }), { labels }],
    [new TripletLoss({ mining: "semi_hard" }), { labels }],
    [new OnlineContrastiveLoss({ mining: "all", chunkRows: 2 }), { labels }],
    [new ContrastiveLoss(), { pairs, scores: [1, 0, 1, 0], subgroups: [0, 1, 0, 1, 0, 1, 0, 1] }],
    [new MultipleNegativesRankingLoss({ symmetric: true, chunkRows: 2 }), { pairs }],
    [new SoftmaxLoss({ embeddingSize: 4, numGroups: 3 }), { labels }],
    [new ArcFaceLoss({ embeddingSize: 4, numGroups: 3 }), { labels }],
    [new CosFaceLoss({ embeddingSize: 4, numGroups: 3 }), { labels }],
    [new CenterLoss({ embeddingSize: 4, numGroups: 3 }), { labels }],
    [new CircleLoss(), { labels }],
    [new FastAPLoss({ chunkRows: 3 }), { labels }],
  ];
  for (const [loss, target] of cases) {
    const before = tf.memory().numTensors;
    loss.compute(e, target).dispose();
    const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => loss.compute(x as tf.Tensor2D, target))(e);
    assert.ok(Number.isFinite(value.dataSync()[0]), loss.name);
    tf.dispose([value, grad]);
    assert.equal(tf.memory().numTensors, before, loss.name);
  }
});
