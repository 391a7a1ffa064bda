/**
 * Private helpers shared by the samplers: validation, grouping by class, per-epoch seeds.
 *
 * @module
 */
import {
  checkFiniteNumber,
  checkLabelValues,
  createRng,
  type Label,
  labelIds,
  type Rng,
  ShapeError,
} from "@likeness/core";

/** Members of each class, classes in first-appearance order. */
export interface ClassIndex {
  /** One representative label per class. */
  labels: Label[];
  /** Item indices of each class, ascending. */
  members: number[][];
}

export function checkLabelList(labels: readonly Label[], what = "labels"): void {
  if (!Array.isArray(labels) || labels.length === 0) {
    throw new ShapeError(`Cannot sample: ${what} is empty; pass one label per item`, "EMPTY_INPUT");
  }
  checkLabelValues(labels, "sample", { what });
}

export function groupByClass(labels: readonly Label[]): ClassIndex {
  const ids = labelIds(labels);
  const out: ClassIndex = { labels: [], members: [] };
  for (let i = 0; i < labels.length; i++) {
    if (ids[i] === out.members.length) {
      out.labels.push(labels[i]);
      out.members.push([]);
    }
    out.members[ids[i]].push(i);
  }
  return out;
}

/** A generator for one epoch, derived from the seed and the epoch number only (resumable). */
export function epochRng(seed: number, epoch: number): Rng {
  checkFiniteNumber(epoch, "epoch", "the sampler", { min: 0, integer: true });
  return createRng((Math.imul((seed >>> 0) ^ 0x5bd1e995, 0x85ebca6b) ^ Math.imul(epoch + 1, 0x9e3779b1)) >>> 0);
}

/** Endless per-class draws: shuffled passes over the class's members (repeats only across passes). */
export class Cycler {
  #items: number[];
  #queue: number[] = [];
  #rng: Rng;
  constructor(items: readonly number[], rng: Rng) {
    this.#items = [...items];
    this.#rng = rng;
  }
  /** `count` items, distinct when `count` ≤ the class size (a refill skips the ones already taken). */
  take(count: number): number[] {
    const out: number[] = [];
    const distinct = count <= this.#items.length;
    while (out.length < count) {
      if (this.#queue.length === 0) {
        const rest = distinct ? this.#items.filter((x) => !out.includes(x)) : [...this.#items];
        this.#queue = this.#rng.shuffle(rest).reverse();
      }
      out.push(this.#queue.pop()!);
    }
    return out;
  }
}

/**
 * `count` groups of `per` distinct ids each from shuffled passes over `ids`; the first pass
 * covers every id before any repeats.
 */
export function groupSchedule(ids: readonly number[], per: number, count: number, rng: Rng): number[][] {
  const stream: number[] = [];
  const out: number[][] = [];
  for (let b = 0; b < count; b++) {
    const group: number[] = [];
    while (group.length < per) {
      if (stream.length === 0) stream.push(...rng.shuffle([...ids]));
      // take the first id of the stream not already in this group
      let pos = 0;
      while (pos < stream.length && group.includes(stream[pos])) pos++;
      if (pos === stream.length) {
        stream.push(...rng.shuffle([...ids]));
        continue;
      }
      group.push(stream.splice(pos, 1)[0]);
    }
    out.push(group);
  }
  return out;
}
