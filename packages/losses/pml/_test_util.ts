/**
 * Private helpers for the pml loss tests: seeded batches, float64 reference matrices, value and
 * gradient of a loss, permutation and error-code checks.
 *
 * @module
 */
import assert from "node:assert/strict";
import { assertClose } from "@likeness/core/testing";
import { tf, useTfBackend } from "@likeness/tf";
import { createRng, type Label } from "@likeness/core";
import type { Loss, LossTarget } from "../types.ts";

/** Start tfjs on wasm. */
export async function setup(): Promise<void> {
  await useTfBackend("wasm");
}

/** Seeded b×d normal batch. */
export function batch(seed: number, b: number, d: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: b }, () => Array.from({ length: d }, () => Math.fround(rng.normal())));
}

/** L2-normalised copy (float64). */
export function unit(x: readonly number[]): number[] {
  const n = Math.max(Math.hypot(...x), 1e-12);
  return x.map((v) => v / n);
}

/** Float64 L2 distances between normalised rows (power 1 or 2). */
export function lp64(e: number[][], power = 1): number[][] {
  const u = e.map(unit);
  return u.map((a) => u.map((b) => Math.hypot(...a.map((v, k) => v - b[k])) ** power));
}

/** Float64 cosine similarities. */
export function cos64(e: number[][], f: number[][] = e): number[][] {
  const u = e.map(unit);
  const w = f.map(unit);
  return u.map((a) => w.map((b) => a.reduce((s, v, k) => s + v * b[k], 0)));
}

/** Loss value as a number. */
export function value(loss: Loss, e: number[][], target: LossTarget): number {
  return tf.tidy(() => loss.compute(tf.tensor2d(e), target).dataSync()[0]);
}

/** Loss value and gradient w.r.t. the embeddings. */
export function valueAndGrad(loss: Loss, e: number[][], target: LossTarget): { value: number; grad: number[][] } {
  return tf.tidy(() => {
    const r = tf.valueAndGrad((x: tf.Tensor) => loss.compute(x as tf.Tensor2D, target))(tf.tensor2d(e));
    return { value: r.value.dataSync()[0], grad: r.grad.arraySync() as number[][] };
  });
}

/** Apply a permutation to rows and labels. */
export function permute(e: number[][], labels: readonly Label[], perm: number[]): { e: number[][]; labels: Label[] } {
  return { e: perm.map((i) => e[i]), labels: perm.map((i) => labels[i]) };
}

/** A seeded permutation of 0..n-1. */
export function perm(seed: number, n: number): number[] {
  return createRng(seed).shuffle(Array.from({ length: n }, (_v, i) => i));
}

/** Assert that `fn` throws an error with this stable code. */
export function assertCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => (e as { code?: string }).code === code);
}

/** log(Σ exp(x)) of a float64 list (−∞ for an empty list). */
export function lse(xs: number[]): number {
  if (xs.length === 0) return -Infinity;
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((s, x) => s + Math.exp(x - m), 0));
}

/** Every gradient entry finite. */
export function allFinite(g: number[][]): boolean {
  return g.every((r) => r.every(Number.isFinite));
}

/** Standard labels of a small batch: `classes` classes, `perClass` each. */
export function groups(classes: number, perClass: number): number[] {
  return Array.from({ length: classes * perClass }, (_v, i) => i % classes);
}

/** Start tfjs on wasm and return the standard batch: 12 seeded rows of width 4, 3 classes of 4 rows. */
export async function standardBatch(seed: number): Promise<{ E: number[][]; Y: number[] }> {
  await setup();
  return { E: batch(seed, 12, 4), Y: groups(3, 4) };
}

/** Assert that the loss is unchanged (rtol 1e-5) when rows and labels are shuffled by a seeded permutation. */
export function assertOrderInvariant(loss: Loss, e: number[][], labels: readonly Label[], seed: number): void {
  const p = permute(e, labels, perm(seed, e.length));
  assertClose(value(loss, p.e, { labels: p.labels }), value(loss, e, { labels }), { rtol: 1e-5 });
}

/** Assert that the loss is exactly 0 and its gradient w.r.t. the embeddings is finite. */
export function assertZeroWithFiniteGrad(loss: Loss, e: number[][], target: LossTarget): void {
  const r = valueAndGrad(loss, e, target);
  assert.equal(r.value, 0);
  assert.ok(allFinite(r.grad));
}
