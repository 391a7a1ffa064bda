/**
 * Evaluation on classes held out from training: split a labelled set by class, then evaluate
 * retrieval among the unseen classes only.
 *
 * @module
 */
import { checkLabels, createRng, type Label, labelIds, ShapeError, toMatrix, ValueError } from "@likeness/core";
import { type AccuracyOptions, type AccuracyResult, computeAccuracy } from "./accuracy.ts";
import type { EmbeddingsInput } from "./knn.ts";

/** Options for {@link splitByClasses}. */
export interface ClassSplitOptions {
  /** The classes to hold out. Default: a seeded random `heldOutFraction` of the classes. */
  heldOut?: readonly Label[];
  /** Fraction of classes to hold out when `heldOut` is not given (default 0.4). */
  heldOutFraction?: number;
  /** Seed for the random choice of classes (default 0). */
  seed?: number;
}

/** A split of item indices into seen (train) and unseen (held-out) classes. */
export interface ClassSplit {
  /** Indices of items whose class is seen in training. */
  train: number[];
  /** Indices of items whose class is held out. */
  heldOut: number[];
  /** The seen classes, in first-appearance order. */
  trainClasses: Label[];
  /** The held-out classes, in first-appearance order. */
  heldOutClasses: Label[];
}

/**
 * Split items by class so that no held-out class is seen in training.
 *
 * @param labels one label per item (scalar labels)
 * @param options the classes to hold out, or a fraction and seed
 * @returns train and held-out indices and classes
 * @throws {ShapeError} EMPTY_INPUT without labels
 * @throws {ValueError} INVALID_ARGUMENT when a named class is absent, or the split leaves either side empty
 * @example
 * ```ts
 * import { splitByClasses } from "@likeness/eval";
 * const s = splitByClasses([0, 1, 2, 0, 1, 2], { heldOut: [2] });
 * console.log(s.heldOut); // [2, 5]
 * ```
 */
export function splitByClasses(labels: readonly Label[], options: ClassSplitOptions = {}): ClassSplit {
  if (!labels || labels.length === 0) {
    throw new ShapeError("Cannot split by class: no labels; pass one label per item", "EMPTY_INPUT");
  }
  const ids = labelIds(labels);
  const classes: Label[] = [];
  for (let i = 0; i < labels.length; i++) if (ids[i] === classes.length) classes.push(labels[i]);
  const held = new Set<number>();
  if (options.heldOut) {
    const key = labelIds([...classes, ...options.heldOut]);
    for (let t = 0; t < options.heldOut.length; t++) {
      const id = key[classes.length + t];
      if (id >= classes.length) {
        throw new ValueError(
          "INVALID_ARGUMENT",
          `Cannot hold out class ${JSON.stringify(options.heldOut[t])}: no item has it; pick from the labels present`,
        );
      }
      held.add(id);
    }
  } else {
    const fraction = options.heldOutFraction ?? 0.4;
    if (!(fraction > 0 && fraction < 1)) {
      throw new ValueError("INVALID_ARGUMENT", `Invalid heldOutFraction ${fraction}: pass a number in (0, 1)`);
    }
    const order = createRng(options.seed ?? 0).shuffle(classes.map((_, i) => i));
    const count = Math.max(1, Math.round(classes.length * fraction));
    for (const id of order.slice(0, count)) held.add(id);
  }
  if (held.size === 0 || held.size === classes.length) {
    throw new ValueError(
      "INVALID_ARGUMENT",
      `Cannot split ${classes.length} classes into ${
        classes.length - held.size
      } seen and ${held.size} held out; keep at least one class on each side`,
    );
  }
  const split: ClassSplit = { train: [], heldOut: [], trainClasses: [], heldOutClasses: [] };
  for (let i = 0; i < labels.length; i++) (held.has(ids[i]) ? split.heldOut : split.train).push(i);
  classes.forEach((c, id) => (held.has(id) ? split.heldOutClasses : split.trainClasses).push(c));
  return split;
}

/**
 * Retrieval metrics among the held-out classes only: every held-out item queries the other
 * held-out items (reference includes query), as Quaterion and TensorFlow Similarity evaluate
 * unseen classes.
 *
 * @param embeddings N×D embeddings of all items
 * @param labels one label per item
 * @param heldOutClasses the classes unseen in training
 * @param options passed to {@link computeAccuracy}
 * @returns the accuracy result over held-out items
 * @throws {ShapeError} LABEL_MISMATCH, EMPTY_INPUT when no item has a held-out class
 * @example
 * ```ts
 * import { evaluateHeldOut } from "@likeness/eval";
 * const r = await evaluateHeldOut([[0, 1], [0, 1], [1, 0], [1, 0]], [0, 0, 1, 1], { heldOutClasses: [1] });
 * console.log(r.metrics.precision_at_1); // 1
 * ```
 */
export async function evaluateHeldOut(
  embeddings: EmbeddingsInput,
  labels: readonly Label[],
  options: AccuracyOptions & { heldOutClasses: readonly Label[] },
): Promise<AccuracyResult> {
  const m = toMatrix(embeddings, "embeddings");
  checkLabels(labels, m.rows, "embeddings");
  const keys = labelIds([...labels, ...options.heldOutClasses]);
  const wanted = new Set(Array.from(keys.subarray(labels.length)));
  const rows: number[] = [];
  for (let i = 0; i < labels.length; i++) if (wanted.has(keys[i])) rows.push(i);
  if (rows.length === 0) {
    throw new ShapeError(
      "Cannot evaluate held-out classes: no item has one of them; check heldOutClasses against the labels",
      "EMPTY_INPUT",
    );
  }
  const data = new Float32Array(rows.length * m.cols);
  rows.forEach((r, t) => data.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), t * m.cols));
  const { heldOutClasses: _, ...rest } = options;
  return await computeAccuracy(
    { embeddings: { data, rows: rows.length, cols: m.cols }, labels: rows.map((r) => labels[r]) },
    undefined,
    rest,
  );
}
