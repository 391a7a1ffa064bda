import { test } from "node:test";
import assert from "node:assert/strict";
import { useTfBackend } from "@likeness/tf";
import { assertClose } from "@likeness/core/testing";
import { ArcFaceLoss, CenterLoss, CosFaceLoss, SoftmaxLoss } from "@likeness/losses";
import {
  crossEntropy,
  cyclicLabels,
  hasCode,
  lossValue,
  orderInvariance,
  randomEmbeddings,
  ref,
} from "./_test_util.ts";
import { classWeightErrors, weightGetsGradient } from "./_class_test_util.ts";

await useTfBackend("wasm");

const D = 4;
const C = 3;
const E = randomEmbeddings(9, D, 51);
const L = cyclicLabels(9, C);
const K = randomEmbeddings(D, C, 52); // D×C kernel
const CENTERS = randomEmbeddings(C, D, 53);
const close = (a: unknown, b: unknown, what: string) => assertClose(a, b, { rtol: 1e-4, atol: 1e-6, what });
const col = (k: number[][], j: number) => k.map((r) => r[j]);
const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / xs.length;

test("SoftmaxLoss matches a float64 brute force; order invariant; typed errors", () => {
  const loss = new SoftmaxLoss({ embeddingSize: D, numGroups: C, temperature: 0.5, kernel: K });
  const want = mean(E.map((e, i) => crossEntropy([0, 1, 2].map((j) => ref.dot(e, col(K, j)) / 0.5), L[i])));
  close(lossValue(loss, E, { labels: L }), want, "softmax");
  orderInvariance(loss, E, L, close);
  classWeightErrors(loss, E, loss.kernel);
  weightGetsGradient(loss, E, L);
});

test("ArcFaceLoss matches a float64 brute force; order invariant; typed errors", () => {
  const loss = new ArcFaceLoss({ embeddingSize: D, numGroups: C, scale: 8, margin: 0.3, kernel: K });
  const want = mean(E.map((e, i) =>
    crossEntropy(
      [0, 1, 2].map((j) => {
        const c = ref.cos(e, col(K, j));
        return 8 * (j === L[i] ? Math.cos(Math.acos(c) + 0.3) : c);
      }),
      L[i],
    )
  ));
  close(lossValue(loss, E, { labels: L }), want, "arcface");
  orderInvariance(loss, E, L, close);
  classWeightErrors(loss, E, loss.kernel);
  weightGetsGradient(loss, E, L);
});

test("CosFaceLoss follows the paper (s * (cos - m)), not Quaterion's double cos", () => {
  const loss = new CosFaceLoss({ embeddingSize: D, numGroups: C, scale: 8, margin: 0.35, kernel: K });
  const want = mean(
    E.map((e, i) => crossEntropy([0, 1, 2].map((j) => 8 * (ref.cos(e, col(K, j)) - (j === L[i] ? 0.35 : 0))), L[i])),
  );
  close(lossValue(loss, E, { labels: L }), want, "cosface");
  orderInvariance(loss, E, L, close);
  classWeightErrors(loss, E, loss.kernel);
  weightGetsGradient(loss, E, L);
});

test("margin losses are near zero when each embedding sits on its class weight", () => {
  const eye = [[1, 0], [0, 1]];
  const emb = [[3, 0], [0, 2]];
  assert.ok(
    lossValue(new CosFaceLoss({ embeddingSize: 2, numGroups: 2, kernel: eye }), emb, { labels: [0, 1] }) < 1e-6,
  );
  assert.ok(
    lossValue(new ArcFaceLoss({ embeddingSize: 2, numGroups: 2, kernel: eye }), emb, { labels: [0, 1] }) < 1e-6,
  );
  assert.ok(
    lossValue(new SoftmaxLoss({ embeddingSize: 2, numGroups: 2, kernel: eye }), emb, { labels: [0, 1] }) < 1e-6,
  );
});

test("CenterLoss matches a float64 brute force; zero on the centres; typed errors", () => {
  const loss = new CenterLoss({ embeddingSize: D, numGroups: C, lambdaC: 0.5, centers: CENTERS });
  const sq = E.flatMap((e, i) => {
    const u = e.map((v) => v / ref.norm(e));
    return u.map((v, k) => (v - CENTERS[L[i]][k]) ** 2);
  });
  close(lossValue(loss, E, { labels: L }), 0.5 * mean(sq), "center");
  orderInvariance(loss, E, L, close);
  classWeightErrors(loss, E, loss.centers);
  weightGetsGradient(loss, E, L);
  const unit = new CenterLoss({ embeddingSize: 2, numGroups: 2, centers: [[1, 0], [0, 1]] });
  assert.equal(lossValue(unit, [[2, 0], [0, 5]], { labels: [0, 1] }), 0);
});

test("class-weight losses: default init is seeded and reproducible; bad weights are typed errors", () => {
  const a = new SoftmaxLoss({ embeddingSize: D, numGroups: C, seed: 3 });
  const b = new SoftmaxLoss({ embeddingSize: D, numGroups: C, seed: 3 });
  assert.deepEqual(Array.from(a.kernel.dataSync()), Array.from(b.kernel.dataSync()));
  assert.ok(Array.from(a.kernel.dataSync()).every((v) => Math.abs(v) < 0.1 && v !== 0));
  const c = new CenterLoss({ embeddingSize: D, numGroups: C, seed: 3 });
  assert.ok(Array.from(c.centers.dataSync()).every((v) => Math.abs(v) <= Math.sqrt(6 / (C + D))));
  assert.throws(() => new ArcFaceLoss({ embeddingSize: D, numGroups: C, kernel: [[1, 2]] }), hasCode("SHAPE_MISMATCH"));
  assert.throws(() => new CenterLoss({ embeddingSize: 0, numGroups: C }), hasCode("INVALID_ARGUMENT"));
  assert.throws(() => new SoftmaxLoss({ embeddingSize: D, numGroups: C, temperature: 0 }), hasCode("INVALID_ARGUMENT"));
});
