/**
 * The in-memory reference index behind the server: vectors, ids, labels and payloads, with
 * immutable snapshots so a search sees one consistent state while writes go on.
 *
 * Rows are append-only: an update appends a new row and retires the old one; a delete retires
 * the row. A snapshot is `{ data, rows, alive, ... }` where `data` rows below `rows` never change
 * after publication, and `alive`/`labelIds` are copied on write. Retired rows are compacted away
 * when they outnumber live ones (a compaction builds new arrays; old snapshots stay valid).
 *
 * @module
 */
import { ShapeError, ValueError } from "@likeness/core";

/** A reference item as stored (vector included). */
export interface ReferenceItem {
  /** Caller's id (unique). */
  id: string;
  /** Class label. */
  label: string;
  /** Embedding. */
  vector: Float32Array;
  /** Optional JSON payload returned with search results. */
  payload?: unknown;
}

/** An immutable view of the index at one moment. */
export interface IndexSnapshot {
  /** Row-major vectors; rows >= `rows` are unused. */
  data: Float32Array;
  /** Number of rows in use (live and retired). */
  rows: number;
  /** Vector dimension. */
  dim: number;
  /** 1 = live row. */
  alive: Uint8Array;
  /** Label id per row (-1 for retired rows). */
  labelIds: Int32Array;
  /** Item per row (undefined for retired rows). */
  items: readonly (ReferenceItem | undefined)[];
  /** Live row count. */
  live: number;
  /** Label name → label id. */
  labelIndex: ReadonlyMap<string, number>;
}

/**
 * A growable index of reference vectors with copy-on-write snapshots.
 *
 * @example
 * ```ts
 * import { ReferenceIndex } from "@likeness/server";
 * const index = new ReferenceIndex(2);
 * index.upsert([{ id: "a", label: "cat", vector: new Float32Array([1, 0]) }]);
 * console.log(index.snapshot().live); // 1
 * ```
 */
export class ReferenceIndex {
  /** Vector dimension. */
  readonly dim: number;
  #data: Float32Array;
  #rows = 0;
  #alive = new Uint8Array(0);
  #labelIds = new Int32Array(0);
  #items: (ReferenceItem | undefined)[] = [];
  #rowOf = new Map<string, number>();
  #labelIndex = new Map<string, number>();
  #snap: IndexSnapshot | undefined;

  /**
   * @param dim vector dimension (positive integer)
   * @param capacity initial row capacity
   */
  constructor(dim: number, capacity = 1024) {
    if (!Number.isInteger(dim) || dim < 1) {
      throw new ValueError("INVALID_ARGUMENT", `Cannot create an index: dim must be a positive integer, got ${dim}`);
    }
    this.dim = dim;
    this.#data = new Float32Array(capacity * dim);
  }

  /** Number of live items. */
  get size(): number {
    return this.#rowOf.size;
  }

  /** The item with this id, or undefined. */
  get(id: string): ReferenceItem | undefined {
    const row = this.#rowOf.get(id);
    return row === undefined ? undefined : this.#items[row];
  }

  /**
   * Insert or replace items by id.
   *
   * @param items items with vectors of length `dim`
   * @returns how many were added and how many updated
   * @throws {ShapeError} when a vector has the wrong length
   */
  upsert(items: readonly ReferenceItem[]): { added: number; updated: number } {
    for (const it of items) {
      if (it.vector.length !== this.dim) {
        throw new ShapeError(
          `Cannot add reference "${it.id}": vector has ${it.vector.length} dimensions but the index has ${this.dim}`,
        );
      }
    }
    let added = 0;
    let updated = 0;
    const growTo = this.#rows + items.length;
    let data = this.#data;
    if (growTo * this.dim > data.length) {
      data = new Float32Array(Math.max(growTo, (data.length / this.dim) * 2) * this.dim);
      data.set(this.#data.subarray(0, this.#rows * this.dim));
    }
    // Copy on write: published snapshots keep the old arrays.
    const aliveOut = new Uint8Array(Math.max(growTo, this.#alive.length));
    aliveOut.set(this.#alive);
    const labelsOut = new Int32Array(Math.max(growTo, this.#labelIds.length));
    labelsOut.set(this.#labelIds);
    for (const it of items) {
      const old = this.#rowOf.get(it.id);
      if (old !== undefined) {
        aliveOut[old] = 0;
        labelsOut[old] = -1;
        this.#items[old] = undefined;
        updated++;
      } else added++;
      const row = this.#rows++;
      data.set(it.vector, row * this.dim);
      let lid = this.#labelIndex.get(it.label);
      if (lid === undefined) {
        lid = this.#labelIndex.size;
        this.#labelIndex.set(it.label, lid);
      }
      aliveOut[row] = 1;
      labelsOut[row] = lid;
      this.#items[row] = it;
      this.#rowOf.set(it.id, row);
    }
    this.#data = data;
    this.#alive = aliveOut;
    this.#labelIds = labelsOut;
    this.#maybeCompact();
    this.#snap = undefined;
    return { added, updated };
  }

  /**
   * Remove an item.
   *
   * @param id the id
   * @returns whether it existed
   */
  delete(id: string): boolean {
    const row = this.#rowOf.get(id);
    if (row === undefined) return false;
    const alive = this.#alive.slice();
    const labelIds = this.#labelIds.slice();
    alive[row] = 0;
    labelIds[row] = -1;
    this.#alive = alive;
    this.#labelIds = labelIds;
    this.#items[row] = undefined;
    this.#rowOf.delete(id);
    this.#maybeCompact();
    this.#snap = undefined;
    return true;
  }

  /** All live items (for snapshots to disk). */
  *entries(): IterableIterator<ReferenceItem> {
    for (let r = 0; r < this.#rows; r++) {
      const it = this.#items[r];
      if (it && this.#alive[r]) yield it;
    }
  }

  /** The current immutable snapshot. */
  snapshot(): IndexSnapshot {
    if (!this.#snap) {
      this.#snap = {
        data: this.#data,
        rows: this.#rows,
        dim: this.dim,
        alive: this.#alive,
        labelIds: this.#labelIds,
        items: this.#items.slice(0, this.#rows),
        live: this.#rowOf.size,
        labelIndex: new Map(this.#labelIndex),
      };
    }
    return this.#snap;
  }

  #maybeCompact(): void {
    const dead = this.#rows - this.#rowOf.size;
    if (dead < 64 || dead < this.#rowOf.size) return;
    const live = [...this.entries()];
    this.#data = new Float32Array(Math.max(live.length * 2, 1024) * this.dim);
    this.#rows = 0;
    this.#alive = new Uint8Array(0);
    this.#labelIds = new Int32Array(0);
    this.#items = [];
    this.#rowOf = new Map();
    this.upsert(live);
  }
}
