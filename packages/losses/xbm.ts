/**
 * Cross-batch memory (XBM): triplet, contrastive and multi-similarity losses of the current batch
 * against a FIFO memory of past embeddings.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import { checkLabels, checkOneOf, equalLabels, type Label, ShapeError, ValueError } from "@likeness/core";
import type { Loss, LossTarget } from "./types.ts";
import { type Distance, distance as makeDistance } from "./distances.ts";

/** Losses {@link CrossBatchMemory} can evaluate against its memory. */
export type XbmLossKind = "triplet" | "contrastive" | "multi_similarity";

/** All XBM loss kinds. */
export const XBM_LOSS_KINDS: readonly XbmLossKind[] = ["triplet", "contrastive", "multi_similarity"];

/** Options of {@link CrossBatchMemory} (loss parameters use pytorch-metric-learning's defaults). */
export interface CrossBatchMemoryOptions {
  /** Which loss: `triplet` (TripletMarginLoss), `contrastive` (ContrastiveLoss) or `multi_similarity`. */
  loss: XbmLossKind;
  /** Rows of memory (default 1024); must be at least the batch size. */
  memorySize?: number;
  /** Distance (default: L2 of normalised rows; cosine similarity for `multi_similarity`). */
  distance?: Distance;
  /** Triplet margin (default 0.05). */
  margin?: number;
  /** Triplet: softplus instead of relu (default false). */
  smooth?: boolean;
  /** Contrastive positive margin (default 0). */
  posMargin?: number;
  /** Contrastive negative margin (default 1). */
  negMargin?: number;
  /** Multi-similarity α (default 2). */
  alpha?: number;
  /** Multi-similarity β (default 50). */
  beta?: number;
  /** Multi-similarity base (default 0.5). */
  base?: number;
  /**
   * Triplet: largest anchors × memory × memory block evaluated at once (default 4,194,304
   * elements); smaller blocks use less memory and give the same value and gradient.
   */
  tripletBlockElements?: number;
}

function finite(v: number, name: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new ValueError("INVALID_ARGUMENT", `Invalid CrossBatchMemory ${name} ${v}: expected a finite number`);
  }
  return v;
}

/** Elements of one anchor-chunk × memory × memory triplet block. */
const TRIPLET_BLOCK = 1 << 22;

/**
 * CrossBatchMemory (XBM, Wang et al. 2020; pytorch-metric-learning 2.8.1 semantics). Every
 * `compute` first enqueues a detached copy of the batch (embeddings and labels) into a FIFO memory
 * of `memorySize` rows, then evaluates the loss over all pairs (current row, memory row): positive
 * pairs share a label (excluding each row's own copy in memory), negative pairs do not.
 * - `triplet`: relu(d(a,p) − d(a,n) + margin) over all such triplets, averaged over the non-zero ones;
 * - `contrastive`: relu(d(a,p) − posMargin) and relu(negMargin − d(a,n)), each averaged over its
 *   non-zero terms, summed;
 * - `multi_similarity`: (1/α) log(1 + Σ_p e^{−α(s−base)}) + (1/β) log(1 + Σ_n e^{β(s−base)}), mean
 *   over the current rows.
 * (For similarities the comparisons flip, as in the peer.) Gradients flow into the current batch
 * only; memory rows are constants. On the first call, with an empty memory, the value equals the
 * plain loss of the batch. `compute` mutates the memory: call it once per training step.
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { CrossBatchMemory } from "@likeness/losses";
 * await useTfBackend("wasm");
 * const xbm = new CrossBatchMemory({ loss: "contrastive", memorySize: 8 });
 * const loss = xbm.compute(tf.tensor2d([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]]), { labels: [0, 0, 1, 1] });
 * console.log(loss.dataSync()[0], xbm.size); // memory now holds 4 rows
 * ```
 */
export class CrossBatchMemory implements Loss {
  /** Class name. */
  readonly name = "CrossBatchMemory";
  /** Loss kind. */
  readonly kind: XbmLossKind;
  /** Memory rows. */
  readonly memorySize: number;
  /** Distance. */
  readonly distance: Distance;
  /** Triplet margin. */
  readonly margin: number;
  /** Triplet softplus. */
  readonly smooth: boolean;
  /** Contrastive margins. */
  readonly posMargin: number;
  /** Contrastive negative margin. */
  readonly negMargin: number;
  /** Multi-similarity α. */
  readonly alpha: number;
  /** Multi-similarity β. */
  readonly beta: number;
  /** Multi-similarity base. */
  readonly base: number;
  /** Triplet block size in elements. */
  readonly tripletBlockElements: number;
  #emb: Float32Array | undefined;
  #labels: Label[];
  #width = 0;
  #next = 0;
  #filled = false;

  /**
   * @param options loss kind, memory size, distance, loss parameters
   * @throws {ValueError} UNKNOWN_NAME for a loss kind; INVALID_ARGUMENT for a bad size or parameter
   */
  constructor(options: CrossBatchMemoryOptions) {
    this.kind = checkOneOf(options?.loss, XBM_LOSS_KINDS, "XBM loss");
    const size = options.memorySize ?? 1024;
    if (!Number.isInteger(size) || size < 1) {
      throw new ValueError("INVALID_ARGUMENT", `Invalid memorySize ${size}: expected a positive integer`);
    }
    this.memorySize = size;
    this.distance = options.distance ??
      (this.kind === "multi_similarity"
        ? makeDistance("cosine", { kind: "similarity" })
        : makeDistance("euclidean", { normalize: true }));
    this.margin = finite(options.margin ?? 0.05, "margin");
    this.smooth = options.smooth ?? false;
    this.posMargin = finite(options.posMargin ?? 0, "posMargin");
    this.negMargin = finite(options.negMargin ?? 1, "negMargin");
    this.alpha = finite(options.alpha ?? 2, "alpha");
    this.beta = finite(options.beta ?? 50, "beta");
    this.base = finite(options.base ?? 0.5, "base");
    if (!(this.alpha > 0 && this.beta > 0)) {
      throw new ValueError("INVALID_ARGUMENT", "Invalid CrossBatchMemory alpha/beta: both must be positive");
    }
    const block = options.tripletBlockElements ?? TRIPLET_BLOCK;
    if (!Number.isInteger(block) || block < 1) {
      throw new ValueError("INVALID_ARGUMENT", `Invalid tripletBlockElements ${block}: expected a positive integer`);
    }
    this.tripletBlockElements = block;
    this.#labels = new Array(size);
  }

  /** Rows currently in memory. */
  get size(): number {
    return this.#filled ? this.memorySize : this.#next;
  }

  /** Empty the memory (e.g. between training runs). */
  reset(): void {
    this.#emb = undefined;
    this.#labels = new Array(this.memorySize);
    this.#width = 0;
    this.#next = 0;
    this.#filled = false;
  }

  /**
   * Enqueue the batch, then the loss of the batch against the memory.
   *
   * @param embeddings B×D (B ≤ memorySize)
   * @param target `labels` (one per row) and optional `match`
   * @returns scalar loss (0 when there is no valid pair)
   * @throws {ShapeError} LABEL_MISMATCH; SHAPE_MISMATCH when B > memorySize or D changes
   * @throws {ValueError} INVALID_ARGUMENT without labels; NON_FINITE
   */
  compute(embeddings: tf.Tensor2D, target: LossTarget): tf.Scalar {
    if (!(embeddings instanceof tf.Tensor) || embeddings.rank !== 2) {
      throw new ShapeError("Cannot compute CrossBatchMemory: embeddings must be a 2-D tensor (B×D)");
    }
    const [b, d] = embeddings.shape;
    const labels = target?.labels;
    if (!labels) throw new ValueError("INVALID_ARGUMENT", "Cannot compute CrossBatchMemory: pass target.labels");
    checkLabels(labels, b);
    if (b > this.memorySize) {
      throw new ShapeError(
        `Cannot compute CrossBatchMemory: batch of ${b} rows exceeds memorySize ${this.memorySize}; raise memorySize`,
      );
    }
    if (this.#emb && d !== this.#width) {
      throw new ShapeError(
        `Cannot compute CrossBatchMemory: embeddings have ${d} columns but the memory holds ${this.#width}`,
      );
    }
    const data = embeddings.dataSync();
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) {
        throw new ValueError(
          "NON_FINITE",
          `Cannot compute CrossBatchMemory: embedding value ${i} is ${data[i]}; pass finite values`,
        );
      }
    }
    // enqueue (detached copy), remembering each row's slot
    if (!this.#emb) {
      this.#emb = new Float32Array(this.memorySize * d);
      this.#width = d;
    }
    const slots = new Int32Array(b);
    for (let i = 0; i < b; i++) {
      const slot = this.#next;
      slots[i] = slot;
      this.#emb.set(data.subarray(i * d, (i + 1) * d), slot * d);
      this.#labels[slot] = labels[i];
      this.#next = (this.#next + 1) % this.memorySize;
      if (this.#next === 0) this.#filled = true;
    }
    const m = this.size;
    const match = target.match ?? equalLabels;
    const pos = new Float32Array(b * m);
    const neg = new Float32Array(b * m);
    for (let i = 0; i < b; i++) {
      for (let j = 0; j < m; j++) {
        if (match(labels[i], this.#labels[j])) {
          if (j !== slots[i]) pos[i * m + j] = 1;
        } else neg[i * m + j] = 1;
      }
    }
    const memory = tf.tensor2d(this.#emb.subarray(0, m * d), [m, d]);
    try {
      return tf.tidy(() => {
        const mat = this.distance.matrix(embeddings, memory);
        if (this.kind === "contrastive") return this.#contrastive(mat, pos, neg);
        if (this.kind === "multi_similarity") return this.#multiSimilarity(mat, pos, neg, b, m);
        return this.#triplet(mat, pos, neg, b, m);
      });
    } finally {
      memory.dispose();
    }
  }

  /** @returns no learned parameters */
  trainableVariables(): tf.Variable[] {
    return [];
  }

  /** Sum of `losses * mask` over the count of non-zero masked terms (count is a constant). */
  #avgNonZero(losses: tf.Tensor, mask: Float32Array): tf.Scalar {
    const masked = tf.mul(losses, tf.tensor(mask, losses.shape));
    const values = masked.dataSync();
    let count = 0;
    for (let i = 0; i < values.length; i++) if (values[i] > 0) count++;
    return (count === 0 ? tf.mul(tf.sum(masked), 0) : tf.div(tf.sum(masked), count)) as tf.Scalar;
  }

  #contrastive(mat: tf.Tensor2D, pos: Float32Array, neg: Float32Array): tf.Scalar {
    const closer = this.distance.smallerIsCloser;
    const posLoss = tf.relu(closer ? tf.sub(mat, this.posMargin) : tf.sub(this.posMargin, mat));
    const negLoss = tf.relu(closer ? tf.sub(this.negMargin, mat) : tf.sub(mat, this.negMargin));
    return tf.add(this.#avgNonZero(posLoss, pos), this.#avgNonZero(negLoss, neg)) as tf.Scalar;
  }

  #multiSimilarity(mat: tf.Tensor2D, pos: Float32Array, neg: Float32Array, b: number, m: number): tf.Scalar {
    const closer = this.distance.smallerIsCloser;
    // pml's distance.margin(x, y): x - y for distances, y - x for similarities
    const posExp = closer ? tf.sub(mat, this.base) : tf.sub(this.base, mat);
    const negExp = closer ? tf.sub(this.base, mat) : tf.sub(mat, this.base);
    const lse = (x: tf.Tensor, mask: Float32Array) => {
      const keep = tf.tensor2d(mask, [b, m]);
      const masked = tf.where(tf.cast(keep, "bool"), x, tf.fill([b, m], -1e9));
      return tf.logSumExp(tf.concat([masked, tf.zeros([b, 1])], 1), 1);
    };
    const posLoss = tf.mul(lse(tf.mul(posExp, this.alpha), pos), 1 / this.alpha);
    const negLoss = tf.mul(lse(tf.mul(negExp, this.beta), neg), 1 / this.beta);
    return tf.mean(tf.add(posLoss, negLoss)) as tf.Scalar;
  }

  #triplet(mat: tf.Tensor2D, pos: Float32Array, neg: Float32Array, b: number, m: number): tf.Scalar {
    const closer = this.distance.smallerIsCloser;
    const rowsPerBlock = Math.max(1, Math.floor(this.tripletBlockElements / (m * m)));
    let sum: tf.Scalar = tf.mul(tf.sum(mat), 0) as tf.Scalar;
    let count = 0;
    for (let s = 0; s < b; s += rowsPerBlock) {
      const e = Math.min(b, s + rowsPerBlock);
      const rows = tf.slice(mat, [s, 0], [e - s, m]);
      const ap = tf.expandDims(rows, 2); // r×m×1 (positive index j)
      const an = tf.expandDims(rows, 1); // r×1×m (negative index k)
      const margins = closer ? tf.sub(ap, an) : tf.sub(an, ap);
      const violation = tf.add(margins, this.margin);
      const losses = this.smooth ? tf.softplus(violation) : tf.relu(violation);
      const mask = new Float32Array((e - s) * m * m);
      for (let i = s; i < e; i++) {
        for (let j = 0; j < m; j++) {
          if (!pos[i * m + j]) continue;
          const base = ((i - s) * m + j) * m;
          for (let k = 0; k < m; k++) if (neg[i * m + k]) mask[base + k] = 1;
        }
      }
      const masked = tf.mul(losses, tf.tensor3d(mask, [e - s, m, m]));
      const values = masked.dataSync();
      for (let i = 0; i < values.length; i++) if (values[i] > 0) count++;
      sum = tf.add(sum, tf.sum(masked)) as tf.Scalar;
    }
    return (count === 0 ? tf.mul(sum, 0) : tf.div(sum, count)) as tf.Scalar;
  }
}
