/**
 * Test helpers for the Quaterion-family losses: seeded data, float64 reference distances and
 * value-and-gradient evaluation.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import { createRng } from "@likeness/core";
import type { Loss, LossTarget } from "../types.ts";

/** Seeded B×D embeddings with entries from a standard normal (rounded to float32). */
export function randomEmbeddings(b: number, d: number, seed = 1): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: b }, () => Array.from({ length: d }, () => Math.fround(rng.normal())));
}

/** Labels 0..k-1 repeated over b rows. */
export function cyclicLabels(b: number, k: number): number[] {
  return Array.from({ length: b }, (_, i) => i % k);
}

/** Float64 reference distances used by the brute-force oracles. */
export const ref = {
  dot: (a: number[], b: number[]): number => a.reduce((s, v, i) => s + v * b[i], 0),
  norm: (a: number[]): number => Math.sqrt(a.reduce((s, v) => s + v * v, 0)),
  cos: (a: number[], b: number[]): number => ref.dot(a, b) / (ref.norm(a) * ref.norm(b)),
  /** Quaterion's cosine matrix form (1 - cos) / 2. */
  cosHalf: (a: number[], b: number[]): number => (1 - ref.cos(a, b)) / 2,
  euclidean: (a: number[], b: number[]): number => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0)),
  manhattan: (a: number[], b: number[]): number => a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0),
};

/** Value and gradient (w.r.t. embeddings) of a loss, as plain arrays. */
export function lossAndGrad(loss: Loss, emb: number[][], target: LossTarget): { value: number; grad: number[] } {
  const x = tf.tensor2d(emb);
  const { value, grad } = tf.valueAndGrad((e: tf.Tensor) => loss.compute(e as tf.Tensor2D, target))(x);
  const out = { value: value.dataSync()[0], grad: Array.from(grad.dataSync()) };
  tf.dispose([x, value, grad]);
  return out;
}

/** Value only. */
export function lossValue(loss: Loss, emb: number[][], target: LossTarget): number {
  const x = tf.tensor2d(emb);
  const v = loss.compute(x, target);
  const out = v.dataSync()[0];
  tf.dispose([x, v]);
  return out;
}

/** A seeded permutation of 0..n-1. */
export function permutation(n: number, seed = 7): number[] {
  return createRng(seed).shuffle(Array.from({ length: n }, (_, i) => i));
}

/** Does `f` throw an error with this code? */
export function hasCode(code: string): (e: unknown) => boolean {
  return (e: unknown) => (e as { code?: string })?.code === code;
}

/** Assert a group loss gives the same value, and the same per-row gradient, for a permuted batch. */
export function orderInvariance(
  loss: Loss,
  emb: number[][],
  labels: number[],
  close: (a: unknown, b: unknown, what: string) => void,
): void {
  const p = permutation(emb.length);
  const a = lossAndGrad(loss, emb, { labels });
  const b = lossAndGrad(loss, p.map((i) => emb[i]), { labels: p.map((i) => labels[i]) });
  close(b.value, a.value, "permuted value");
  const d = emb[0].length;
  const back = new Array(a.grad.length);
  p.forEach((src, dst) => {
    for (let k = 0; k < d; k++) back[src * d + k] = b.grad[dst * d + k];
  });
  close(back, a.grad, "permuted grad");
}

/** Softmax cross-entropy of one row of logits against a target index (float64). */
export function crossEntropy(logits: number[], target: number): number {
  const mx = Math.max(...logits);
  const lse = mx + Math.log(logits.reduce((s, v) => s + Math.exp(v - mx), 0));
  return lse - logits[target];
}
