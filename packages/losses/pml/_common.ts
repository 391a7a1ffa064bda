/**
 * Private helpers shared by the pytorch-metric-learning losses: input checks, pml's default
 * distances (LpDistance, CosineSimilarity, DotProductSimilarity as `distance()` objects), label
 * masks, pair/triplet enumeration, gradient-safe gathers, masked log-sum-exp, miner weights and
 * learned-weight initialisation.
 *
 * Not re-exported.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import {
  checkRowIndex,
  createRng,
  equalLabels,
  type Label,
  labelIds,
  type LabelMatcher,
  requireLabels,
  sameLabelMatrix,
  ShapeError,
  ValueError,
} from "@likeness/core";
import type { LossTarget } from "../types.ts";
import { type Distance, distance } from "../distances.ts";

import { noGrad } from "../grad_utils.ts";
import type { PmlDistance } from "./pml_distance.ts";

export type { PmlDistance };

/** Whether a distance L2-normalises rows (pml's `normalize_embeddings`). */
export function normalizes(d: PmlDistance): boolean {
  const o = (d as Partial<Distance>).options;
  const name = (d as Partial<Distance>).name;
  return name === "cosine" || (o?.normalize ?? (d as { normalize?: boolean }).normalize ?? false);
}

/** Identity in the forward pass, zero gradient (torch's `.detach()`). */
export const stopGradient: (x: tf.Tensor) => tf.Tensor = tf.customGrad(
  // deno-lint-ignore no-explicit-any
  ((x: tf.Tensor, _save: any) => ({ value: tf.clone(x), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) })) as any,
) as unknown as (x: tf.Tensor) => tf.Tensor;

/** sqrt with a zero (not NaN) gradient where the argument is 0; negative rounding clamps to 0. */
export function safeSqrt(x: tf.Tensor): tf.Tensor {
  const pos = tf.step(x);
  return tf.mul(tf.sqrt(tf.add(tf.mul(x, pos), tf.sub(1, pos))), pos);
}

/** 1 where x > 0 else 0, with a zero gradient (tfjs has no gradient for comparisons). */
export function positiveMask(x: tf.Tensor): tf.Tensor {
  return tf.step(x);
}

/** Row-wise L2 normalisation like torch's `F.normalize(x, p=2, dim=1, eps=1e-12)`. */
export function l2Normalize(x: tf.Tensor2D, axis = 1): tf.Tensor2D {
  const norm = safeSqrt(tf.sum(tf.square(x), axis, true));
  return tf.div(x, tf.maximum(norm, 1e-12)) as tf.Tensor2D;
}

/**
 * pml's LpDistance(normalize_embeddings=True, p=2, power): `distance("euclidean", { normalize: true, power })`.
 *
 * @param options normalizeEmbeddings (default true), power (default 1)
 * @returns a distance (smaller is closer)
 */
export function lpDistance(options: { normalizeEmbeddings?: boolean; power?: number } = {}): Distance {
  return distance("euclidean", { normalize: options.normalizeEmbeddings ?? true, power: options.power ?? 1 });
}

/**
 * pml's CosineSimilarity: `distance("cosine", { kind: "similarity" })`.
 *
 * @returns a similarity (larger is closer)
 */
export function cosineSimilarity(): Distance {
  return distance("cosine", { kind: "similarity" });
}

/**
 * pml's DotProductSimilarity, whose `normalize_embeddings` defaults to true like every pml distance:
 * `distance("dot", { kind: "similarity", normalize: true })`.
 *
 * @returns a similarity (larger is closer)
 */
export function dotProductSimilarity(options: { normalizeEmbeddings?: boolean } = {}): Distance {
  return distance("dot", { kind: "similarity", normalize: options.normalizeEmbeddings ?? true });
}

/**
 * `dist.matrix(x, y)` turned into similarities (negated for a distance), so that larger is always closer.
 *
 * @returns the (negated) matrix, rows of x × rows of y (or of x)
 */
export function similarityMatrix(dist: PmlDistance, x: tf.Tensor2D, y?: tf.Tensor2D): tf.Tensor2D {
  const mat = y === undefined ? dist.matrix(x) : dist.matrix(x, y);
  return dist.smallerIsCloser ? tf.neg(mat) : mat;
}

/** `distance.margin(x, y)` of pml: x - y for distances, y - x for similarities. */
export function margin(dist: PmlDistance, x: tf.Tensor | number, y: tf.Tensor | number): tf.Tensor {
  return dist.smallerIsCloser ? tf.sub(x, y) : tf.sub(y, x);
}

/**
 * Integer class ids in [0, numClasses) for classifier/proxy losses.
 *
 * @throws {ShapeError} LABEL_MISMATCH
 * @throws {ValueError} OUT_OF_RANGE
 */
export function requireClassIds(
  target: LossTarget | undefined,
  n: number,
  numClasses: number,
  loss: string,
): Int32Array {
  const labels = requireLabels(target?.labels, n, loss);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const l = labels[i];
    if (typeof l !== "number" || !Number.isInteger(l) || l < 0 || l >= numClasses) {
      throw new ValueError(
        "OUT_OF_RANGE",
        `Cannot compute ${loss}: label ${
          JSON.stringify(l)
        } at row ${i} is not a class id in [0, ${numClasses}); map labels to 0..numClasses-1 or raise numClasses`,
        { details: { row: i } },
      );
    }
    out[i] = l;
  }
  return out;
}

/** Pairs of pml's `get_all_pairs_indices` (or mined): a1/p positives, a2/n negatives. */
export interface PairIndices {
  a1: Int32Array;
  p: Int32Array;
  a2: Int32Array;
  n: Int32Array;
}

/** Same-label matrix (diagonal 1) as 0/1 bytes, row-major; dense ids for the default matcher. */
export function sameMatrix(labels: readonly Label[], match: LabelMatcher | undefined): Uint8Array {
  if (match !== undefined && match !== equalLabels) return sameLabelMatrix(labels, match);
  const ids = labelIds(labels);
  const b = labels.length;
  const out = new Uint8Array(b * b);
  for (let i = 0; i < b; i++) {
    const id = ids[i];
    for (let j = 0; j < b; j++) out[i * b + j] = ids[j] === id ? 1 : 0;
  }
  return out;
}

/** All positive pairs (a ≠ p, same label) and negative pairs (different label), row-major order. */
export function allPairs(labels: readonly Label[], match?: LabelMatcher): PairIndices {
  const b = labels.length;
  const same = sameMatrix(labels, match);
  let nSame = 0;
  for (let i = 0; i < same.length; i++) nSame += same[i];
  const nPos = nSame - b;
  const nNeg = b * b - nSame;
  const out: PairIndices = {
    a1: new Int32Array(nPos),
    p: new Int32Array(nPos),
    a2: new Int32Array(nNeg),
    n: new Int32Array(nNeg),
  };
  let kp = 0;
  let kn = 0;
  for (let i = 0; i < b; i++) {
    for (let j = 0; j < b; j++) {
      if (i === j) continue;
      if (same[i * b + j]) {
        out.a1[kp] = i;
        out.p[kp++] = j;
      } else {
        out.a2[kn] = i;
        out.n[kn++] = j;
      }
    }
  }
  return out;
}

/** Triplet indices as parallel arrays: anchor, positive, negative. */
export interface TripletIndices {
  a: Int32Array;
  p: Int32Array;
  n: Int32Array;
}

/** All triplets (a, p, n) of pml's `get_all_triplets_indices` (a ≠ p same label, n other label). */
export function allTriplets(labels: readonly Label[], match?: LabelMatcher): TripletIndices {
  const b = labels.length;
  const same = sameMatrix(labels, match);
  let count = 0;
  const posCount = new Int32Array(b);
  for (let i = 0; i < b; i++) {
    let np = 0;
    for (let j = 0; j < b; j++) if (same[i * b + j]) np++;
    posCount[i] = np - 1;
    count += (np - 1) * (b - np);
  }
  const out = { a: new Int32Array(count), p: new Int32Array(count), n: new Int32Array(count) };
  let k = 0;
  for (let a = 0; a < b; a++) {
    if (posCount[a] === 0) continue;
    for (let p = 0; p < b; p++) {
      if (p === a || !same[a * b + p]) continue;
      for (let n = 0; n < b; n++) {
        if (same[a * b + n]) continue;
        out.a[k] = a;
        out.p[k] = p;
        out.n[k] = n;
        k++;
      }
    }
  }
  return out;
}

function checkIndex(i: number, b: number, loss: string): void {
  checkRowIndex(i, b, loss, "mined index");
}

/** Rows a batch is compared against: the reference set's count, or the batch's own. */
export function partnerCount(target: LossTarget, b: number): number {
  return target.ref ? target.ref.embeddings.shape[0] : b;
}

/** B×R distance (or similarity) matrix against the reference set, or B×B within the batch. */
export function partnerMatrix(dist: PmlDistance, embeddings: tf.Tensor2D, target: LossTarget): tf.Tensor2D {
  return target.ref ? dist.matrix(embeddings, target.ref.embeddings) : dist.matrix(embeddings);
}

/**
 * pml's `get_all_pairs_indices(labels, ref_labels)` for a separate reference set: every (batch row,
 * reference row) pair, positive when the labels match (no diagonal to skip: the sets differ).
 */
export function allReferencePairs(labels: readonly Label[], ref: readonly Label[], match?: LabelMatcher): PairIndices {
  const m = match ?? equalLabels;
  const out = emptyPairLists();
  for (let i = 0; i < labels.length; i++) {
    for (let j = 0; j < ref.length; j++) {
      if (m(labels[i], ref[j])) {
        out.a1.push(i);
        out.p.push(j);
      } else {
        out.a2.push(i);
        out.n.push(j);
      }
    }
  }
  return toPairIndices(out);
}

/** Growable lists of pair indices, filled by the pair builders. */
interface PairLists {
  a1: number[];
  p: number[];
  a2: number[];
  n: number[];
}

function emptyPairLists(): PairLists {
  return { a1: [], p: [], a2: [], n: [] };
}

function toPairIndices(out: PairLists): PairIndices {
  return {
    a1: Int32Array.from(out.a1),
    p: Int32Array.from(out.p),
    a2: Int32Array.from(out.a2),
    n: Int32Array.from(out.n),
  };
}

/** Every triplet (batch anchor, reference positive, reference negative) of a separate reference set. */
function allReferenceTriplets(labels: readonly Label[], ref: readonly Label[], match?: LabelMatcher): TripletIndices {
  const pairs = allReferencePairs(labels, ref, match);
  return tripletsFromPairs(pairs);
}

/** Triplets (a, p, n) from positive pairs (a, p) and negative pairs (a, n) sharing the anchor. */
function tripletsFromPairs(pairs: PairIndices): TripletIndices {
  const negs = new Map<number, number[]>();
  for (let k = 0; k < pairs.a2.length; k++) {
    const list = negs.get(pairs.a2[k]);
    if (list) list.push(pairs.n[k]);
    else negs.set(pairs.a2[k], [pairs.n[k]]);
  }
  const a: number[] = [];
  const p: number[] = [];
  const n: number[] = [];
  for (let k = 0; k < pairs.a1.length; k++) {
    for (const neg of negs.get(pairs.a1[k]) ?? []) {
      a.push(pairs.a1[k]);
      p.push(pairs.p[k]);
      n.push(neg);
    }
  }
  return { a: Int32Array.from(a), p: Int32Array.from(p), n: Int32Array.from(n) };
}

/** pml's `convert_to_pairs`: mined pairs as given, triplets split into (a,p) and (a,n), else all pairs. */
export function pairsOf(target: LossTarget, labels: readonly Label[], loss: string): PairIndices {
  const ind = target.indices;
  const b = labels.length;
  const r = partnerCount(target, b);
  if (!ind) {
    return target.ref ? allReferencePairs(labels, target.ref.labels, target.match) : allPairs(labels, target.match);
  }
  const out = emptyPairLists();
  if (ind.triplets) {
    for (const [a, p, n] of ind.triplets) {
      checkIndex(a, b, loss);
      checkIndex(p, r, loss);
      checkIndex(n, r, loss);
      out.a1.push(a);
      out.p.push(p);
      out.a2.push(a);
      out.n.push(n);
    }
  } else {
    for (const [a, p] of ind.positivePairs ?? []) {
      checkIndex(a, b, loss);
      checkIndex(p, r, loss);
      out.a1.push(a);
      out.p.push(p);
    }
    for (const [a, n] of ind.negativePairs ?? []) {
      checkIndex(a, b, loss);
      checkIndex(n, r, loss);
      out.a2.push(a);
      out.n.push(n);
    }
  }
  return toPairIndices(out);
}

/** pml's `convert_to_triplets`: mined triplets, triplets formed from mined pairs, else all triplets. */
export function tripletsOf(target: LossTarget, labels: readonly Label[], loss: string): TripletIndices {
  const ind = target.indices;
  const b = labels.length;
  const r = partnerCount(target, b);
  if (!ind) {
    return target.ref
      ? allReferenceTriplets(labels, target.ref.labels, target.match)
      : allTriplets(labels, target.match);
  }
  if (!ind.triplets) {
    // pml's convert_to_triplets from pairs: every (a, p) with every (a, n) of the same anchor
    return tripletsFromPairs(pairsOf(target, labels, loss));
  }
  for (const t of ind.triplets) {
    checkIndex(t[0], b, loss);
    checkIndex(t[1], r, loss);
    checkIndex(t[2], r, loss);
  }
  return {
    a: Int32Array.from(ind.triplets, (t) => t[0]),
    p: Int32Array.from(ind.triplets, (t) => t[1]),
    n: Int32Array.from(ind.triplets, (t) => t[2]),
  };
}

/** Pair masks B×R (float32 0/1; R = B within a batch) built from pair indices. */
export function pairMasks(pairs: PairIndices, b: number, r = b): { pos: Float32Array; neg: Float32Array } {
  const pos = new Float32Array(b * r);
  const neg = new Float32Array(b * r);
  for (let k = 0; k < pairs.a1.length; k++) pos[pairs.a1[k] * r + pairs.p[k]] = 1;
  for (let k = 0; k < pairs.a2.length; k++) neg[pairs.a2[k] * r + pairs.n[k]] = 1;
  return { pos, neg };
}

/** A zero scalar still connected to `x` (so gradients are zeros, not missing). */
export function zeroLoss(x: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.add(tf.mul(tf.sum(x), 0), 0) as tf.Scalar);
}

/**
 * pml's `lmu.logsumexp(x, keep_mask, add_one, dim)`: log-sum-exp over the kept entries
 * (plus a 0 term when `addOne`); rows (or columns) with nothing kept give 0.
 */
export function maskedLogSumExp(x: tf.Tensor2D, mask: tf.Tensor2D, addOne: boolean, axis = 1): tf.Tensor {
  const keep = tf.greater(mask, 0);
  const any = tf.any(keep, axis, true);
  // the shift is a constant: computed off the tape (noGrad), so no Max/Select gradient runs (the Max
  // gradient's broadcast Equal alone takes ~100 ms at 1024×1024 on wasm)
  let m = noGrad((v) => tf.max(tf.where(keep, v, tf.fill(v.shape, -3.0e38)), axis, true), x);
  if (addOne) m = tf.maximum(m, 0);
  m = tf.where(any, m, tf.zerosLike(m));
  // (tf.broadcastTo's gradient is slow on wasm: broadcast through tf.sub instead)
  const e = tf.mul(tf.exp(tf.where(keep, tf.sub(x, m), tf.zerosLike(x))), mask);
  let s = tf.sum(e, axis, true);
  if (addOne) s = tf.add(s, tf.exp(tf.neg(m)));
  const safe = tf.where(any, s, tf.onesLike(s));
  return tf.where(any, tf.add(tf.log(safe), m), tf.zerosLike(s));
}

/** pml's `convert_to_weights`: per-row weights from how often a row appears in the mined tuples. */
export function minerWeights(target: LossTarget, b: number): Float32Array {
  const w = new Float32Array(b);
  const ind = target.indices;
  const flat: number[] = [];
  if (ind) {
    for (const t of ind.triplets ?? []) flat.push(...t);
    for (const t of ind.positivePairs ?? []) flat.push(...t);
    for (const t of ind.negativePairs ?? []) flat.push(...t);
  }
  if (flat.length === 0) return w.fill(1);
  const counts = new Float64Array(b);
  for (const i of flat) {
    checkIndex(i, b, "loss");
    counts[i]++;
  }
  let max = 0;
  for (const c of counts) max = Math.max(max, c);
  for (let i = 0; i < b; i++) w[i] = counts[i] / max;
  return w;
}

/** Softmax cross-entropy per row against integer targets (torch's CrossEntropyLoss(reduction="none")). */
export function crossEntropy(logits: tf.Tensor2D, targets: Int32Array): tf.Tensor1D {
  const oneHot = tf.oneHot(tf.tensor1d(targets, "int32"), logits.shape[1]);
  const logp = tf.logSoftmax(logits, 1);
  return tf.neg(tf.sum(tf.mul(oneHot, logp), 1)) as tf.Tensor1D;
}

/** Build a learned weight matrix as a tf.Variable from given values or a seeded normal init. */
export function makeWeight(
  rows: number,
  cols: number,
  init: readonly (readonly number[])[] | Float32Array | undefined,
  seed: number,
  scale: number,
  what: string,
  loss: string,
): tf.Variable {
  let data: Float32Array;
  if (init instanceof Float32Array) {
    if (init.length !== rows * cols) {
      throw new ShapeError(`Cannot create ${loss}: ${what} has ${init.length} values but needs ${rows}×${cols}`);
    }
    data = init;
  } else if (init) {
    if (init.length !== rows || init.some((r) => r.length !== cols)) {
      throw new ShapeError(`Cannot create ${loss}: ${what} must be ${rows}×${cols}`);
    }
    data = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[i * cols + j] = init[i][j];
  } else {
    const rng = createRng(seed);
    data = new Float32Array(rows * cols);
    for (let i = 0; i < data.length; i++) {
      data[i] = scale * rng.normal();
    }
  }
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new ValueError("NON_FINITE", `Cannot create ${loss}: ${what} contains a non-finite value`);
    }
  }
  return tf.variable(tf.tensor2d(data, [rows, cols]), true);
}

/** A checked batch of a label-based loss: its size and labels. */
export interface LabelledBatch {
  /** Batch size. */
  b: number;
  /** One label per row. */
  labels: readonly Label[];
}

/**
 * The labels of a label-based loss, checked against the batch (the embeddings were checked by
 * `BaseLoss.compute`).
 *
 * @throws {ValueError} INVALID_ARGUMENT without labels
 * @throws {ShapeError} LABEL_MISMATCH
 */
export function labelledBatch(embeddings: tf.Tensor2D, target: LossTarget, loss: string): LabelledBatch {
  const b = embeddings.shape[0];
  return { b, labels: requireLabels(target?.labels, b, loss) };
}

/** A checked batch of a pair-based loss: its size, labels and pairs (mined or all). */
export interface PairBatch extends LabelledBatch {
  /** Positive and negative pairs. */
  pairs: PairIndices;
}

/**
 * The prelude of the pair-based losses: check the embeddings and labels, then take the mined pairs
 * (pml's `convert_to_pairs`) or all pairs.
 *
 * @throws {ShapeError} SHAPE_MISMATCH / EMPTY_INPUT / LABEL_MISMATCH
 * @throws {ValueError} NON_FINITE / OUT_OF_RANGE
 */
export function pairBatch(embeddings: tf.Tensor2D, target: LossTarget, loss: string): PairBatch {
  const { b, labels } = labelledBatch(embeddings, target, loss);
  return { b, labels, pairs: pairsOf(target, labels, loss) };
}

/** Whether there is no positive pair or no negative pair (pml then returns a zero loss). */
export function lacksPairs(pairs: PairIndices): boolean {
  return pairs.a1.length === 0 || pairs.a2.length === 0;
}

/** 1 for every row that anchors at least one negative pair, else 0. */
export function rowsWithNegatives(pairs: PairIndices, b: number): Float32Array {
  const has = new Float32Array(b);
  for (const i of pairs.a2) has[i] = 1;
  return has;
}

/** A checked batch of a triplet-based loss: its size, labels and triplets (mined or all). */
export interface TripletBatch extends LabelledBatch {
  /** Anchor, positive, negative. */
  triplets: TripletIndices;
}

/**
 * The prelude of the triplet-based losses: check the embeddings and labels, then take the mined
 * triplets (pml's `convert_to_triplets`) or all triplets.
 *
 * @throws {ShapeError} SHAPE_MISMATCH / EMPTY_INPUT / LABEL_MISMATCH
 * @throws {ValueError} NON_FINITE / OUT_OF_RANGE
 */
export function tripletBatch(embeddings: tf.Tensor2D, target: LossTarget, loss: string): TripletBatch {
  const { b, labels } = labelledBatch(embeddings, target, loss);
  return { b, labels, triplets: tripletsOf(target, labels, loss) };
}
