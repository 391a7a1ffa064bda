/**
 * Plain-TS reference of the HNSW graph kernel (`kernels/hnsw/graph.ts`): the same algorithm
 * (Malkov & Yashunin: insertion, search-layer, the neighbour-selection heuristic, k-NN search)
 * written for clarity with plain arrays. Distances are float32 (`Math.fround` after every
 * operation, one accumulator in index order, as the scalar build computes them), so for the same
 * rows, levels and parameters this reference builds exactly the graph of the scalar kernel: the
 * tests compare the two graphs list by list, and its searches are the oracle of the kernel's.
 *
 * @module
 */

/** Distance kind: 0 negated dot, 1 squared L2, 2 L1 (smaller = closer). */
export type HnswRefKind = 0 | 1 | 2;

/** A (distance, node) pair. */
interface Pair {
  d: number;
  n: number;
}

const f = Math.fround;

/** (a) before (b): smaller distance, then lower node. */
function before(a: Pair, b: Pair): boolean {
  return a.d < b.d || (a.d === b.d && a.n < b.n);
}

/**
 * Float32 distance between rows a and b of `x`, accumulated as the scalar kernel does.
 *
 * @param x rows, row-major
 * @param dim row length
 * @param kind distance kind
 * @param a first row
 * @param b second row
 * @returns the internal distance (float32 value)
 */
export function hnswDistanceRef(x: Float32Array, dim: number, kind: HnswRefKind, a: number, b: number): number {
  return hnswDistanceRowsRef(x, a * dim, x, b * dim, dim, kind);
}

/**
 * Float32 distance between x[ia..ia+dim) and y[ib..ib+dim).
 *
 * @param x first array
 * @param ia offset in x
 * @param y second array
 * @param ib offset in y
 * @param dim length
 * @param kind distance kind
 * @returns the internal distance
 */
export function hnswDistanceRowsRef(
  x: Float32Array,
  ia: number,
  y: Float32Array,
  ib: number,
  dim: number,
  kind: HnswRefKind,
): number {
  let s = 0;
  for (let k = 0; k < dim; k++) {
    const p = x[ia + k];
    const q = y[ib + k];
    if (kind === 0) s = f(s + f(p * q));
    else if (kind === 1) {
      const t = f(p - q);
      s = f(s + f(t * t));
    } else s = f(s + Math.abs(f(p - q)));
  }
  return kind === 0 ? -s : s;
}

/**
 * Reference HNSW graph: rows, levels, lists per layer.
 *
 * @example
 * ```ts
 * import { HnswRef } from "@likeness/kernels/reference";
 * import assert from "node:assert/strict";
 * const g = new HnswRef(2, 1, 4);
 * g.add(new Float32Array([0, 0, 1, 0, 0, 1]), [0, 0, 0], 16);
 * assert.equal(g.search(new Float32Array([0.9, 0.1]), 1, 16)[0].n, 1);
 * ```
 */
export class HnswRef {
  /** Rows (float32), growing. */
  rows: Float32Array = new Float32Array(0);
  /** Level of each node. */
  levels: number[] = [];
  /** lists[node][layer] = neighbour nodes. */
  lists: number[][][] = [];
  /** Entry node. */
  entry = -1;
  /** Top layer. */
  maxLevel = -1;
  /** Tombstones. */
  deleted: boolean[] = [];

  /**
   * @param dim row length
   * @param kind distance kind
   * @param M links per node above layer 0 (2·M on layer 0)
   */
  constructor(readonly dim: number, readonly kind: HnswRefKind, readonly M: number) {}

  private dq(q: Float32Array, node: number): number {
    return hnswDistanceRowsRef(q, 0, this.rows, node * this.dim, this.dim, this.kind);
  }

  private dn(a: number, b: number): number {
    return hnswDistanceRef(this.rows, this.dim, this.kind, a, b);
  }

  /**
   * Append rows and insert them in order.
   *
   * @param rows n × dim values
   * @param levels level of each new node
   * @param efConstruction candidate list size
   */
  add(rows: Float32Array, levels: ArrayLike<number>, efConstruction: number): void {
    const n0 = this.levels.length;
    const grown = new Float32Array(this.rows.length + levels.length * this.dim);
    grown.set(this.rows);
    grown.set(rows.subarray(0, levels.length * this.dim), this.rows.length);
    this.rows = grown;
    for (let i = 0; i < levels.length; i++) {
      this.levels.push(levels[i]);
      this.lists.push(Array.from({ length: levels[i] + 1 }, () => []));
      this.deleted.push(false);
      this.insert(n0 + i, efConstruction);
    }
  }

  private greedy(q: Float32Array, ep: Pair, layer: number): Pair {
    let cur = ep;
    let changed = true;
    while (changed) {
      changed = false;
      for (const nb of this.lists[cur.n][layer]) {
        const p = { d: this.dq(q, nb), n: nb };
        if (before(p, cur)) {
          cur = p;
          changed = true;
        }
      }
    }
    return cur;
  }

  /** Search-layer: up to ef accepted pairs, ascending. */
  private searchLayer(q: Float32Array, ep: Pair, ef: number, layer: number, accept: (n: number) => boolean): Pair[] {
    const visited = new Set<number>([ep.n]);
    const cand: Pair[] = [ep]; // kept sorted ascending
    const res: Pair[] = accept(ep.n) ? [ep] : []; // kept sorted ascending
    const insertSorted = (list: Pair[], p: Pair) => {
      let i = list.length;
      while (i > 0 && before(p, list[i - 1])) i--;
      list.splice(i, 0, p);
    };
    while (cand.length > 0) {
      const c = cand[0];
      if (res.length >= ef && !before(c, res[res.length - 1])) break;
      cand.shift();
      for (const nb of this.lists[c.n][layer]) {
        if (visited.has(nb)) continue;
        visited.add(nb);
        const p = { d: this.dq(q, nb), n: nb };
        if (res.length < ef || before(p, res[res.length - 1])) {
          insertSorted(cand, p);
          if (accept(nb)) {
            insertSorted(res, p);
            if (res.length > ef) res.pop();
          }
        }
      }
    }
    return res;
  }

  /** Heuristic selection from candidates sorted ascending by distance to the base. */
  private select(cands: Pair[], m: number): number[] {
    const out: number[] = [];
    for (const e of cands) {
      if (out.length >= m) break;
      if (out.every((r) => !(this.dn(e.n, r) < e.d))) out.push(e.n);
    }
    return out;
  }

  private insert(q: number, efc: number): void {
    const level = this.levels[q];
    const qv = this.rows.subarray(q * this.dim, (q + 1) * this.dim);
    if (this.entry < 0) {
      this.entry = q;
      this.maxLevel = level;
      return;
    }
    let ep: Pair = { d: this.dq(qv, this.entry), n: this.entry };
    for (let l = this.maxLevel; l > level; l--) ep = this.greedy(qv, ep, l);
    for (let l = Math.min(level, this.maxLevel); l >= 0; l--) {
      const w = this.searchLayer(qv, ep, efc, l, () => true);
      const chosen = this.select(w, this.M);
      this.lists[q][l] = chosen;
      for (const e of chosen) {
        const list = this.lists[e][l];
        const cap = l === 0 ? 2 * this.M : this.M;
        if (list.length < cap) list.push(q);
        else {
          const all = [...list, q].map((x) => ({ d: this.dn(e, x), n: x }));
          all.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
          this.lists[e][l] = this.select(all, cap);
        }
      }
      ep = w[0];
    }
    if (level > this.maxLevel) {
      this.entry = q;
      this.maxLevel = level;
    }
  }

  /**
   * k nearest live (and, with `eligible`, accepted) nodes to q, ascending.
   *
   * @param q query row (float32)
   * @param k results
   * @param ef candidate list size (max(ef, k) is used)
   * @param eligible optional predicate on nodes
   * @returns up to k pairs `{ d, n }`
   */
  search(q: Float32Array, k: number, ef: number, eligible?: (n: number) => boolean): Pair[] {
    if (this.entry < 0) return [];
    let ep: Pair = { d: this.dq(q, this.entry), n: this.entry };
    for (let l = this.maxLevel; l > 0; l--) ep = this.greedy(q, ep, l);
    const accept = (n: number) => !this.deleted[n] && (!eligible || eligible(n));
    return this.searchLayer(q, ep, Math.max(ef, k), 0, accept).slice(0, k);
  }
}
