import { test } from "node:test";
import assert from "node:assert/strict";
import { tf, useTfBackend } from "@likeness/tf";
import { createRng, ShapeError, ValueError } from "@likeness/core";
import { assertClose } from "@likeness/core/testing";
import { AnglELoss, CoSENTLoss } from "@likeness/losses";

await useTfBackend("wasm");

function rows(n: number, d: number, seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => Array.from({ length: d }, () => rng.normal()));
}

function cos(u: number[], v: number[]): number {
  const dot = u.reduce((s, x, k) => s + x * v[k], 0);
  return dot / Math.sqrt(u.reduce((s, x) => s + x * x, 0) * v.reduce((s, x) => s + x * x, 0));
}

function angle(u: number[], v: number[]): number {
  const h = u.length / 2;
  let re = 0;
  let im = 0;
  const nu = Math.sqrt(u.reduce((s, x) => s + x * x, 0));
  const nv2 = v.reduce((s, x) => s + x * x, 0);
  for (let k = 0; k < h; k++) {
    const [a, b, c, d] = [u[k], u[h + k], v[k], v[h + k]];
    re += (a * c + b * d) / nv2;
    im += (b * c - a * d) / nv2;
  }
  const r = nu / Math.sqrt(nv2);
  return Math.abs(re / r + im / r);
}

function bruteCosent(sims: number[], scores: number[], scale: number): number {
  let acc = 1;
  for (let i = 0; i < sims.length; i++) {
    for (let j = 0; j < sims.length; j++) if (scores[i] < scores[j]) acc += Math.exp(scale * (sims[i] - sims[j]));
  }
  return Math.log(acc);
}

const emb = rows(8, 6, 1);
const pairs: [number, number][] = [[0, 1], [2, 3], [4, 5], [6, 7], [1, 6]];
const scores = [0.9, 0.1, 0.5, 0.5, 0.3];

test("CoSENTLoss matches a brute-force loop and is invariant to pair order", () => {
  const x = tf.tensor2d(emb);
  const got = new CoSENTLoss({ scale: 5 }).compute(x, { pairs, scores });
  const want = bruteCosent(pairs.map(([a, b]) => cos(emb[a], emb[b])), scores, 5);
  assertClose(got.dataSync()[0], want, { rtol: 1e-4 });
  const perm = [3, 0, 4, 1, 2];
  const shuffled = new CoSENTLoss({ scale: 5 }).compute(x, {
    pairs: perm.map((i) => pairs[i]),
    scores: perm.map((i) => scores[i]),
  });
  assertClose(shuffled.dataSync()[0], want, { rtol: 1e-4 });
  tf.dispose([x, got, shuffled]);
});

test("CoSENTLoss is ~0 when the similarities rank like the scores, and 0 for equal scores", () => {
  const x = tf.tensor2d([[1, 0], [1, 0], [1, 0], [0.6, 0.8], [1, 0], [0, 1]]);
  const ranked = new CoSENTLoss().compute(x, { pairs: [[0, 1], [2, 3], [4, 5]], scores: [1, 0.5, 0] });
  assert.ok(ranked.dataSync()[0] < 1e-3);
  const tie = new CoSENTLoss().compute(x, { pairs: [[0, 1], [4, 5]], scores: [1, 1] });
  assert.equal(tie.dataSync()[0], 0);
  tf.dispose([x, ranked, tie]);
});

test("AnglELoss matches a brute-force loop, odd widths are padded", () => {
  const x = tf.tensor2d(emb);
  const got = new AnglELoss({ scale: 3 }).compute(x, { pairs, scores });
  const want = bruteCosent(pairs.map(([a, b]) => angle(emb[a], emb[b])), scores, 3);
  assertClose(got.dataSync()[0], want, { rtol: 1e-4 });
  const odd = rows(4, 5, 2);
  const xo = tf.tensor2d(odd);
  const gotOdd = new AnglELoss({ scale: 3 }).compute(xo, { pairs: [[0, 1], [2, 3]], scores: [0, 1] });
  const pad = (r: number[]) => [...r, 0];
  const wantOdd = bruteCosent([angle(pad(odd[0]), pad(odd[1])), angle(pad(odd[2]), pad(odd[3]))], [0, 1], 3);
  assertClose(gotOdd.dataSync()[0], wantOdd, { rtol: 1e-4 });
  tf.dispose([x, got, xo, gotOdd]);
});

test("CoSENTLoss gradients are finite and bad targets are typed errors", () => {
  const x = tf.tensor2d(emb);
  const g = tf.grad((e: tf.Tensor) => new CoSENTLoss().compute(e as tf.Tensor2D, { pairs, scores }))(x);
  assert.ok(Array.from(g.dataSync()).every(Number.isFinite));
  const loss = new CoSENTLoss();
  assert.throws(
    () => loss.compute(x, { pairs }),
    (e: unknown) => e instanceof ValueError && e.code === "INVALID_ARGUMENT",
  );
  assert.throws(
    () => loss.compute(x, { pairs, scores: [1, 2] }),
    (e: unknown) => e instanceof ShapeError && e.code === "LABEL_MISMATCH",
  );
  assert.throws(
    () => loss.compute(x, { pairs: [[0, 8]], scores: [1] }),
    (e: unknown) => e instanceof ValueError && e.code === "OUT_OF_RANGE",
  );
  assert.throws(
    () => new CoSENTLoss({ scale: 0 }),
    (e: unknown) => e instanceof ValueError && e.code === "INVALID_ARGUMENT",
  );
  const bad = tf.tensor2d([[NaN, 0], [1, 0]]);
  assert.throws(
    () => loss.compute(bad, { pairs: [[0, 1]], scores: [1] }),
    (e: unknown) => e instanceof ValueError && e.code === "NON_FINITE",
  );
  tf.dispose([x, g, bad]);
});
