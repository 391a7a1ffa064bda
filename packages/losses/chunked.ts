/**
 * Row-chunked evaluation of all-pairs loss terms: the B×B (or B×B×B) work is done over blocks of
 * rows, so peak memory is bounded by `chunkRows × B` instead of `B × B`, and the value and the
 * gradient equal the unchunked computation (up to float32 summation order).
 *
 * A loss describes its all-pairs term as a {@link RowChunkedTerm}: per-block partial sums (a
 * small vector), optional first-pass statistics (also per-block sums, e.g. the mean hardest
 * negative distance of Quaterion's hard TripletLoss), and a `finish` that turns the totals into
 * the scalar loss. Chunked, the forward pass keeps no tape; the backward pass recomputes each
 * block and backpropagates it alone (rematerialisation, as GradCache does), so at most one block's
 * intermediates are alive at a time.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import { checkPositiveInt } from "@likeness/core";

/** An all-pairs loss term that decomposes over row blocks. */
export interface RowChunkedTerm {
  /** Number of rows the term can be split over (B for group losses, the pair count for pairwise ones). */
  readonly rows: number;
  /**
   * Optional first pass: per-block sums of statistics the second pass needs (differentiable).
   * @param x the input tensor (embeddings)
   * @param start first row of the block
   * @param end one past the last row
   */
  stats?(x: tf.Tensor2D, start: number, end: number): tf.Tensor1D;
  /**
   * Per-block partial sums (differentiable), given the total statistics (null without `stats`).
   * @param x the input tensor (embeddings)
   * @param start first row of the block
   * @param end one past the last row
   * @param stats totals of `stats` over all blocks, or null
   */
  partial(x: tf.Tensor2D, start: number, end: number, stats: tf.Tensor1D | null): tf.Tensor1D;
  /**
   * Turn totals into the scalar loss (differentiable in both arguments).
   * @param totals sums of `partial` over all blocks
   * @param stats sums of `stats` over all blocks, or null
   */
  finish(totals: tf.Tensor1D, stats: tf.Tensor1D | null): tf.Scalar;
}

/** Options of {@link evaluateRowChunked}. */
export interface ChunkOptions {
  /**
   * Rows per block. Undefined (default) or at least `term.rows` evaluates in one piece with the
   * ordinary tape; smaller values bound memory at the cost of recomputing each block in backward.
   */
  chunkRows?: number;
}

/**
 * Check a `chunkRows` option.
 *
 * @param chunkRows undefined or a positive integer
 * @returns the value
 * @throws {ValueError} INVALID_ARGUMENT when not a positive integer
 * @example
 * ```ts
 * import { checkChunkRows } from "@likeness/losses";
 * checkChunkRows(64);
 * ```
 */
export function checkChunkRows(chunkRows: number | undefined): number | undefined {
  if (chunkRows === undefined) return undefined;
  return checkPositiveInt(chunkRows, "chunkRows (rows per block)");
}

function blocks(rows: number, size: number): [number, number][] {
  const out: [number, number][] = [];
  for (let s = 0; s < rows; s += size) out.push([s, Math.min(rows, s + size)]);
  return out;
}

function sumBlocks(
  x: tf.Tensor2D,
  bs: [number, number][],
  f: (x: tf.Tensor2D, s: number, e: number) => tf.Tensor1D,
): Float32Array | null {
  let acc: Float32Array | null = null;
  for (const [s, e] of bs) {
    const v = tf.tidy(() => f(x, s, e));
    const d = v.dataSync() as Float32Array;
    v.dispose();
    if (acc === null) acc = Float32Array.from(d);
    else for (let i = 0; i < acc.length; i++) acc[i] += d[i];
  }
  return acc;
}

/** tfjs keeps one global tape; nested gradient calls in a backward pass reset it, so we restore it. */
function withSavedTape<T>(f: () => T): T {
  const engine = tf.engine() as unknown as { state: { activeTape: unknown } };
  const saved = engine.state.activeTape;
  try {
    return f();
  } finally {
    engine.state.activeTape = saved;
  }
}

/**
 * Evaluate a {@link RowChunkedTerm} over row blocks; differentiable with respect to `x`.
 *
 * @param term the loss term
 * @param x the input (embeddings), B×D
 * @param options `chunkRows`
 * @returns the scalar loss
 * @throws {ValueError} INVALID_ARGUMENT for a bad `chunkRows`
 * @example
 * ```ts
 * import { tf } from "@likeness/tf";
 * import { evaluateRowChunked } from "@likeness/losses";
 * // mean squared norm of rows, two rows per block
 * const term = {
 *   rows: 4,
 *   partial: (x: tf.Tensor2D, s: number, e: number) =>
 *     tf.reshape(tf.sum(tf.square(tf.slice(x, [s, 0], [e - s, -1]))), [1]) as tf.Tensor1D,
 *   finish: (t: tf.Tensor1D) => tf.div(tf.sum(t), 4) as tf.Scalar,
 * };
 * const v = evaluateRowChunked(term, tf.ones([4, 3]) as tf.Tensor2D, { chunkRows: 2 });
 * console.log(v.arraySync()); // 3
 * ```
 */
export function evaluateRowChunked(term: RowChunkedTerm, x: tf.Tensor2D, options: ChunkOptions = {}): tf.Scalar {
  const chunkRows = checkChunkRows(options.chunkRows);
  if (chunkRows === undefined || chunkRows >= term.rows) {
    return tf.tidy(() => {
      const stats = term.stats ? term.stats(x, 0, term.rows) : null;
      return term.finish(term.partial(x, 0, term.rows, stats), stats);
    });
  }
  const bs = blocks(term.rows, chunkRows);
  const op = tf.customGrad((...args: unknown[]) => {
    const input = args[0] as tf.Tensor2D;
    // keep the input alive for the backward pass (an outer gradient disposes forward intermediates)
    (args[1] as (ts: tf.Tensor[]) => void)([input]);
    const statsArr = term.stats ? sumBlocks(input, bs, (xx, s, e) => term.stats!(xx, s, e)) : null;
    const totalsArr = sumBlocks(input, bs, (xx, s, e) => {
      const st = statsArr ? tf.tensor1d(statsArr) : null;
      return term.partial(xx, s, e, st);
    })!;
    const value = tf.tidy(() => term.finish(tf.tensor1d(totalsArr), statsArr ? tf.tensor1d(statsArr) : null));
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) =>
      withSavedTape(() =>
        tf.tidy(() => {
          const input = saved[0] as tf.Tensor2D;
          const totals = tf.tensor1d(totalsArr);
          const stats = statsArr ? tf.tensor1d(statsArr) : null;
          // d loss / d totals and d loss / d stats (direct part)
          let gT: tf.Tensor1D;
          let gS: tf.Tensor1D | null = null;
          if (stats) {
            const [a, b] = tf.grads((t: tf.Tensor, s: tf.Tensor) =>
              tf.add(term.finish(t as tf.Tensor1D, s as tf.Tensor1D), tf.mul(0, tf.sum(s)))
            )([totals, stats]);
            gT = tf.mul(a, dy) as tf.Tensor1D;
            gS = tf.mul(b, dy) as tf.Tensor1D;
          } else {
            gT = tf.mul(tf.grad((t: tf.Tensor) => term.finish(t as tf.Tensor1D, null))(totals), dy) as tf.Tensor1D;
          }
          let gx: tf.Tensor = tf.zerosLike(input);
          for (const [s, e] of bs) {
            if (stats) {
              const [gxc, gsc] = tf.grads((xx: tf.Tensor, st: tf.Tensor) =>
                tf.add(
                  tf.sum(tf.mul(gT, term.partial(xx as tf.Tensor2D, s, e, st as tf.Tensor1D))),
                  tf.mul(0, tf.add(tf.sum(xx), tf.sum(st))),
                )
              )([input, stats]);
              gx = tf.add(gx, gxc);
              gS = tf.add(gS!, gsc) as tf.Tensor1D;
            } else {
              const gxc = tf.grad((xx: tf.Tensor) =>
                tf.add(tf.sum(tf.mul(gT, term.partial(xx as tf.Tensor2D, s, e, null))), tf.mul(0, tf.sum(xx)))
              )(input);
              gx = tf.add(gx, gxc);
            }
          }
          if (stats) {
            for (const [s, e] of bs) {
              const gxc = tf.grad((xx: tf.Tensor) =>
                tf.add(tf.sum(tf.mul(gS!, term.stats!(xx as tf.Tensor2D, s, e))), tf.mul(0, tf.sum(xx)))
              )(input);
              gx = tf.add(gx, gxc);
            }
          }
          return gx;
        })
      );
    return { value, gradFunc };
  });
  return (op as (x: tf.Tensor2D) => tf.Scalar)(x);
}
