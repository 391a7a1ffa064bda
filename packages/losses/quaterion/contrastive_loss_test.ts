import { test } from "node:test";
import assert from "node:assert/strict";
import { useTfBackend } from "@likeness/tf";
import { assertClose } from "@likeness/core/testing";
import { ContrastiveLoss, distance } from "@likeness/losses";
import { hasCode, lossAndGrad, lossValue, permutation, randomEmbeddings, ref } from "./_test_util.ts";

await useTfBackend("wasm");

const E = randomEmbeddings(8, 4, 31);
const PAIRS: [number, number][] = [[0, 4], [1, 5], [2, 6], [3, 7]];
const SCORES = [1, 0, 1, 0];
const SUB = [0, 1, 2, 0, 1, 2, 0, 1];
const close = (a: unknown, b: unknown, what: string) => assertClose(a, b, { rtol: 1e-4, atol: 1e-6, what });

function brute(
  emb: number[][],
  pairs: [number, number][],
  y: number[],
  margin: number,
  d: typeof ref.cos,
  sub?: number[],
  dSub?: typeof ref.cos,
): number {
  const n = emb.length;
  const impact = (i: number) => {
    const others = [...Array(n).keys()].filter((j) => sub![j] !== sub![i]).map((j) => dSub!(emb[i], emb[j]));
    return others.length ? Math.max(0, margin - Math.min(...others)) ** 2 : 0;
  };
  const ls = pairs.map(([a, b], k) => {
    const dist = d(emb[a], emb[b]);
    let l = 0.5 * (y[k] * dist ** 2 + (1 - y[k]) * Math.max(0, margin - dist) ** 2);
    if (sub && new Set(sub).size > 1) l += impact(a) + impact(b);
    return l;
  });
  return ls.reduce((s, v) => s + v, 0) / ls.length;
}

test("ContrastiveLoss matches a float64 brute force, with and without subgroups", () => {
  const cos = (a: number[], b: number[]) => 1 - ref.cos(a, b);
  close(
    lossValue(new ContrastiveLoss(), E, { pairs: PAIRS, scores: SCORES }),
    brute(E, PAIRS, SCORES, 0.5, cos),
    "cosine",
  );
  close(
    lossValue(new ContrastiveLoss(), E, { pairs: PAIRS, scores: SCORES, subgroups: SUB }),
    brute(E, PAIRS, SCORES, 0.5, cos, SUB, ref.cosHalf),
    "cosine subgroups",
  );
  const eu = new ContrastiveLoss({ margin: 4, distance: distance("euclidean") });
  close(
    lossValue(eu, E, { pairs: PAIRS, scores: SCORES, subgroups: SUB }),
    brute(E, PAIRS, SCORES, 4, ref.euclidean, SUB, ref.euclidean),
    "euclidean subgroups",
  );
  const sum = new ContrastiveLoss({ sizeAverage: false });
  close(lossValue(sum, E, { pairs: PAIRS, scores: SCORES }), 4 * brute(E, PAIRS, SCORES, 0.5, cos), "sum");
});

test("ContrastiveLoss: batch order, zero when margins hold, finite gradient for identical items", () => {
  const p = permutation(E.length);
  const inv = p.map((_, i) => p.indexOf(i)); // new index of old row i
  const a = lossValue(new ContrastiveLoss(), E, { pairs: PAIRS, scores: SCORES, subgroups: SUB });
  const b = lossValue(new ContrastiveLoss(), p.map((i) => E[i]), {
    pairs: PAIRS.map(([x, y]) => [inv[x], inv[y]] as [number, number]),
    scores: SCORES,
    subgroups: p.map((i) => SUB[i]),
  });
  close(b, a, "permuted");
  const emb = [[1, 0], [1, 0], [0, 1], [-1, 0]];
  assert.equal(lossValue(new ContrastiveLoss(), emb, { pairs: [[0, 1], [2, 3]], scores: [1, 0] }), 0);
  const r = lossAndGrad(new ContrastiveLoss({ distance: "euclidean" }), emb, { pairs: [[0, 1]], scores: [1] });
  assert.equal(r.value, 0);
  assert.ok(r.grad.every(Number.isFinite));
});

test("ContrastiveLoss rejects bad pairs, scores and subgroups with typed errors", () => {
  const loss = new ContrastiveLoss();
  assert.throws(() => lossValue(loss, E, { pairs: [[0, 8]], scores: [1] }), hasCode("OUT_OF_RANGE"));
  assert.throws(() => lossValue(loss, E, { pairs: PAIRS, scores: [1] }), hasCode("LABEL_MISMATCH"));
  assert.throws(() => lossValue(loss, E, { pairs: PAIRS }), hasCode("INVALID_ARGUMENT"));
  assert.throws(() => lossValue(loss, E, { scores: [1] }), hasCode("INVALID_ARGUMENT"));
  assert.throws(
    () => lossValue(loss, E, { pairs: PAIRS, scores: SCORES, subgroups: [0, 1] }),
    hasCode("LABEL_MISMATCH"),
  );
  assert.throws(() => lossValue(loss, [[NaN, 0], [0, 1]], { pairs: [[0, 1]], scores: [1] }), hasCode("NON_FINITE"));
});
