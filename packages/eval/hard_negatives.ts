/**
 * `mineHardNegatives`: offline hard-negative mining over (anchor, positive) pairs, as
 * sentence-transformers' `mine_hard_negatives` does it: embed the corpus once into a resident
 * vector index, retrieve each anchor's nearest corpus items by cosine similarity, drop the known
 * positives (every positive of the same anchor, and the anchor itself), and keep candidates that
 * stay a margin below the pair's own similarity.
 *
 * @module
 */
import { checkPositiveInt, type Matrix, ShapeError, ValueError } from "@likeness/core";
import { type Backend, createIndex } from "@likeness/backend";
import { indexOptionsOf } from "./_index_option.ts";
import type { EvalIndexOption } from "./knn.ts";

/** A tensor as tfjs returns it (only what is read here). */
interface TensorLike {
  shape: number[];
  data(): Promise<ArrayLike<number>>;
  dispose(): void;
}

/** What embeds a batch: a function returning a matrix, or an encoder whose `encode` returns a tensor. */
export type HardNegativeEncoder<T> =
  | ((batch: T[]) => Promise<Matrix>)
  | { encode(batch: T[]): Promise<TensorLike | Matrix> };

/** Pairs to mine for, and where negatives come from. */
export interface HardNegativeCorpus<T> {
  /** Anchors (queries). */
  anchors: readonly T[];
  /** One positive per anchor (`positives[i]` pairs with `anchors[i]`). */
  positives: readonly T[];
  /** Candidate negatives (default: the positives). */
  corpus?: readonly T[];
}

/** Options for {@link mineHardNegatives}. */
export interface HardNegativeOptions {
  /** Negatives per pair [5]. */
  k?: number;
  /**
   * Margin [0]: a candidate is kept when `sim(anchor, neg) <= sim(anchor, pos) − margin`, or with
   * `relative`, when `sim(anchor, neg) <= sim(anchor, pos) × (1 − margin)` (sentence-transformers'
   * `absolute_margin` / `relative_margin`). Guards against false negatives that are really positives.
   */
  margin?: number;
  /** Read `margin` as relative [false]. */
  relative?: boolean;
  /** Nearest neighbours retrieved per anchor before filtering [max(30, 4k)]. */
  searchDepth?: number;
  /** Rows per encoder call [64]. */
  batchSize?: number;
  /** Where the index runs (default: wasm-simd, one thread). */
  backend?: Backend;
  /**
   * Index kind of the corpus [`flat`, exact]: `"hnsw"` or `{ kind: "hnsw", hnsw: { efSearch } }`
   * for a large corpus (**approximate**: a hard negative the graph walk misses is not mined).
   */
  index?: EvalIndexOption;
}

/** Hard negatives of one pair. */
export interface HardNegatives {
  /** Pair index (anchor i with positive i). */
  pair: number;
  /** Cosine similarity of the anchor and its positive. */
  positiveScore: number;
  /** Corpus indices of the negatives, hardest (most similar) first; fewer than k when too few qualify. */
  negatives: number[];
  /** Their cosine similarities to the anchor. */
  scores: number[];
}

async function embed<T>(encoder: HardNegativeEncoder<T>, items: readonly T[], batchSize: number): Promise<Matrix> {
  let dim = -1;
  let out = new Float32Array(0);
  for (let i0 = 0; i0 < items.length; i0 += batchSize) {
    const batch = items.slice(i0, i0 + batchSize);
    const r = typeof encoder === "function" ? await encoder(batch) : await encoder.encode(batch);
    let data: ArrayLike<number>, rows: number, cols: number;
    if ("shape" in r) {
      [rows, cols] = r.shape;
      data = await r.data();
      r.dispose();
    } else ({ data, rows, cols } = r);
    if (rows !== batch.length) {
      throw new ShapeError(`Cannot mine hard negatives: the encoder returned ${rows} rows for ${batch.length} inputs`);
    }
    if (dim < 0) {
      dim = cols;
      out = new Float32Array(items.length * dim);
    }
    out.set(data as ArrayLike<number>, i0 * dim);
  }
  return { data: out, rows: items.length, cols: dim };
}

/**
 * Mine hard negatives for (anchor, positive) pairs from a corpus.
 *
 * @param encoder embeds batches (a function to a matrix, or an encoder with `encode`)
 * @param corpus anchors, positives, and candidate negatives (default: the positives)
 * @param options k, margin, relative, searchDepth, batchSize, backend, index
 * @returns one entry per pair, negatives hardest first
 * @throws {ShapeError} SHAPE_MISMATCH when anchors and positives differ in length
 * @throws {ValueError} INVALID_ARGUMENT for a bad k, margin, depth or index parameter; UNKNOWN_NAME for an
 *   unknown index kind
 * @example
 * ```ts
 * import { mineHardNegatives } from "@likeness/eval";
 * const vec: Record<string, number[]> = { a: [1, 0], p: [0.9, 0.1], n1: [0.8, 0.3], n2: [0, 1] };
 * const encoder = (b: string[]) =>
 *   Promise.resolve({ data: Float32Array.from(b.flatMap((s) => vec[s])), rows: b.length, cols: 2 });
 * const [r] = await mineHardNegatives(encoder, { anchors: ["a"], positives: ["p"], corpus: ["p", "n1", "n2"] }, { k: 1 });
 * console.log(r.negatives); // [1] (n1: close to a, yet below p)
 * ```
 */
export async function mineHardNegatives<T>(
  encoder: HardNegativeEncoder<T>,
  corpus: HardNegativeCorpus<T>,
  options: HardNegativeOptions = {},
): Promise<HardNegatives[]> {
  const { anchors, positives } = corpus;
  if (!Array.isArray(anchors) || !Array.isArray(positives) || anchors.length !== positives.length) {
    throw new ShapeError(
      `Cannot mine hard negatives: got ${anchors?.length} anchors and ${positives?.length} positives; pass one positive per anchor`,
    );
  }
  const k = checkPositiveInt(options.k ?? 5, "k");
  const margin = options.margin ?? 0;
  if (!Number.isFinite(margin) || (options.relative && (margin < 0 || margin >= 1))) {
    throw new ValueError("INVALID_ARGUMENT", `Invalid margin ${margin}: a finite number (relative: in [0, 1))`);
  }
  const batchSize = checkPositiveInt(options.batchSize ?? 64, "batchSize");
  const kind = options.index === undefined ? {} : indexOptionsOf(options.index);
  const pool = corpus.corpus ?? positives;
  if (anchors.length === 0 || pool.length === 0) return [];
  const depth = Math.min(pool.length, checkPositiveInt(options.searchDepth ?? Math.max(30, 4 * k), "searchDepth"));
  // Known positives of an anchor value: every positive paired with an equal anchor, and the anchor itself.
  const known = new Map<T, Set<T>>();
  anchors.forEach((a, i) => {
    let s = known.get(a);
    if (!s) known.set(a, s = new Set([a]));
    s.add(positives[i]);
  });
  const A = await embed(encoder, anchors, batchSize);
  const P = await embed(encoder, positives, batchSize);
  const C = pool === positives ? P : await embed(encoder, pool, batchSize);
  const index = await createIndex({ ...kind, dim: C.cols, metric: "cosine", capacity: C.rows }, options.backend);
  try {
    await index.add(C);
    const hits = await index.search(A, { k: depth });
    const out: HardNegatives[] = [];
    const D = A.cols;
    for (let i = 0; i < anchors.length; i++) {
      let dot = 0, na = 0, np = 0;
      for (let d = 0; d < D; d++) {
        const a = A.data[i * D + d], p = P.data[i * D + d];
        dot += a * p;
        na += a * a;
        np += p * p;
      }
      const pos = na > 0 && np > 0 ? dot / Math.sqrt(na * np) : 0;
      const limit = options.relative ? pos * (1 - margin) : pos - margin;
      const skip = known.get(anchors[i])!;
      const negatives: number[] = [], scores: number[] = [];
      for (let t = 0; t < depth && negatives.length < k; t++) {
        const j = hits.ids[i * depth + t];
        if (j < 0 || skip.has(pool[j])) continue;
        const s = hits.values[i * depth + t];
        if (s > limit) continue;
        negatives.push(j);
        scores.push(s);
      }
      out.push({ pair: i, positiveScore: pos, negatives, scores });
    }
    return out;
  } finally {
    index.dispose();
  }
}
