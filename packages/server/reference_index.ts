/**
 * The reference index behind the server: ids, labels and payloads in JS, vectors in a resident
 * vector index of `@likeness/backend` (WebAssembly memory shared with the kernel threads) once a
 * searcher with a full `Backend` asks for it.
 *
 * Rows are append-only: an update appends a new row and tombstones the old one; a delete
 * tombstones the row. Row numbers are the resident index's ids, so its compaction (run when
 * tombstones outnumber live rows) keeps them. Writes reach the resident index in call order
 * (its calls run one at a time), so a search issued after a write sees it. A snapshot is a view
 * of the current state (no copy): rows below `rows` never change, a later delete clears `alive`.
 *
 * @module
 */
import { checkFinite, checkPositiveInt, ShapeError, ValueError } from "@likeness/core";
import { IdTable } from "./_id_table.ts";
import {
  type Backend,
  createIndex,
  type HnswParams,
  INDEX_KINDS,
  type IndexInfo,
  type IndexKind,
  type VectorIndex,
} from "@likeness/backend";

/** Options of {@link ReferenceIndex} (defaults in brackets). */
export interface ReferenceIndexOptions {
  /** Initial row capacity [1024]. */
  capacity?: number;
  /** Kind of the resident index: `flat` (exact), `int8`, `binary` or `hnsw` (approximate) [flat]. */
  kind?: IndexKind;
  /** HNSW parameters (`M`, `efConstruction`, `efSearch`, `seed`; see `@likeness/backend`). */
  hnsw?: HnswParams;
  /** `hnsw` only: threads that build the graph (1–16; not part of the graph's identity) [1]. */
  buildThreads?: number;
}

/** The JS side of a {@link ReferenceIndex} in plain arrays, for a saved snapshot (see `index_snapshot.ts`). */
export interface ReferenceIndexState {
  /** Rows in use (live and retired): the next row number. */
  rows: number;
  /** Tombstones since the last compaction. */
  dead: number;
  /** Label names in label-id order. */
  labels: string[];
  /** Row of each live item, ascending. */
  liveRows: Int32Array;
  /** Label id of each live item. */
  labelIds: Int32Array;
  /** Id of each live item. */
  ids: string[];
  /** `[i, payload]` for the live items (by position in `liveRows`) that have a payload. */
  payloads: [number, unknown][];
}

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

/** An item restored from a snapshot: its vector is a view made on first read (a million views cost seconds). */
class RestoredItem implements ReferenceItem {
  id: string;
  label: string;
  declare payload?: unknown;
  #at: number;
  #of: ((i: number) => Float32Array) | undefined;
  #vector: Float32Array | undefined;
  constructor(id: string, label: string, at: number, of: (i: number) => Float32Array) {
    this.id = id;
    this.label = label;
    this.#at = at;
    this.#of = of;
  }
  get vector(): Float32Array {
    if (!this.#vector) {
      this.#vector = this.#of!(this.#at);
      this.#of = undefined;
    }
    return this.#vector;
  }
}

/** A view of the index at one moment (see the module doc). */
export interface IndexSnapshot {
  /** Row-major vectors of rows [0, rows) (built on first read, for callers of `Backend.topk`). */
  readonly data: Float32Array;
  /** Number of rows in use (live and retired). */
  rows: number;
  /** Vector dimension. */
  dim: number;
  /** 1 = live row. */
  alive: Uint8Array;
  /** Label id per row (-1 for retired rows). */
  labelIds: Int32Array;
  /** Item per row (undefined for retired rows). */
  readonly items: readonly (ReferenceItem | undefined)[];
  /** Live row count. */
  live: number;
  /** Label name → label id. */
  labelIndex: ReadonlyMap<string, number>;
}

/**
 * A growable index of reference vectors backed by a resident vector index.
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
  #rows = 0;
  #alive: Uint8Array;
  #labelIds: Int32Array;
  /** Item per row (undefined for retired rows). */
  #items: (ReferenceItem | undefined)[] = [];
  #live = 0;
  #rowOf = new IdTable();
  #labelIndex = new Map<string, number>();
  #resident: Promise<VectorIndex> | null = null;
  #ready: VectorIndex | undefined;
  #snap: IndexSnapshot | undefined;
  /** Kind of the resident index. */
  readonly kind: IndexKind;
  /** HNSW parameters given (the kind's defaults fill the rest). */
  readonly hnsw: HnswParams;
  /** Threads that build an `hnsw` graph. */
  readonly buildThreads: number;
  /** Tombstones since the last compaction of the resident index. */
  #dead = 0;

  /**
   * @param dim vector dimension (positive integer)
   * @param options initial capacity, index kind and HNSW parameters (a number: the capacity)
   * @throws {ValueError} INVALID_ARGUMENT for a bad dim, UNKNOWN_NAME for an unknown kind
   */
  constructor(dim: number, options: ReferenceIndexOptions | number = {}) {
    checkPositiveInt(dim, "dim", "ReferenceIndex");
    const o = typeof options === "number" ? { capacity: options } : options;
    const capacity = o.capacity ?? 1024;
    const kind = o.kind ?? "flat";
    if (!(INDEX_KINDS as readonly string[]).includes(kind)) {
      throw new ValueError(
        "UNKNOWN_NAME",
        `Unknown index kind ${JSON.stringify(kind)}: use one of ${INDEX_KINDS.join(", ")}`,
      );
    }
    this.kind = kind;
    this.hnsw = { ...o.hnsw };
    this.buildThreads = o.buildThreads ?? 1;
    this.dim = dim;
    this.#alive = new Uint8Array(Math.max(1, capacity));
    this.#labelIds = new Int32Array(Math.max(1, capacity));
  }

  /** Number of live items. */
  get size(): number {
    return this.#live;
  }

  /** The item with this id, or undefined. */
  get(id: string): ReferenceItem | undefined {
    const row = this.#rowOf.get(id);
    return row === undefined ? undefined : this.#items[row];
  }

  /** The live item at a row (a resident index id), or undefined. */
  itemAt(row: number): ReferenceItem | undefined {
    return this.#items[row];
  }

  /**
   * Insert or replace items by id.
   *
   * @param items items with finite vectors of length `dim`
   * @returns how many were added and how many updated
   * @throws {ShapeError} when a vector has the wrong length
   * @throws {ValueError} NON_FINITE when a vector holds NaN or ±Infinity (nothing is written then)
   */
  upsert(items: readonly ReferenceItem[]): { added: number; updated: number } {
    for (const it of items) {
      if (it.vector.length !== this.dim) {
        throw new ShapeError(
          `Cannot add reference "${it.id}": vector has ${it.vector.length} dimensions but the index has ${this.dim}`,
        );
      }
      checkFinite(it.vector, `reference "${it.id}"`);
    }
    let added = 0;
    let updated = 0;
    this.#grow(this.#rows + items.length);
    const first = this.#rows;
    const toRemove: number[] = [];
    for (const it of items) {
      const old = this.#rowOf.get(it.id);
      if (old !== undefined) {
        this.#alive[old] = 0;
        this.#labelIds[old] = -1;
        this.#items[old] = undefined;
        this.#live--;
        this.#dead++;
        // A row written earlier in this same call never reached the resident index.
        if (old < first) toRemove.push(old);
        updated++;
      } else added++;
      const row = this.#rows++;
      let lid = this.#labelIndex.get(it.label);
      if (lid === undefined) {
        lid = this.#labelIndex.size;
        this.#labelIndex.set(it.label, lid);
      }
      this.#alive[row] = 1;
      this.#labelIds[row] = lid;
      this.#items[row] = it;
      this.#live++;
      this.#rowOf.set(it.id, row);
    }
    const keep: number[] = [];
    for (let r = first; r < this.#rows; r++) if (this.#alive[r]) keep.push(r);
    const vectors = new Float32Array(keep.length * this.dim);
    keep.forEach((r, t) => vectors.set(this.#items[r]!.vector, t * this.dim));
    const labels = keep.map((r) => this.#labelIds[r]);
    this.#toResident((v) => {
      if (toRemove.length) void v.remove(toRemove).catch(() => undefined);
      if (keep.length) {
        void v.add({ data: vectors, rows: keep.length, cols: this.dim }, { ids: keep, labels })
          .catch(() => undefined);
      }
    });
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
    this.#alive[row] = 0;
    this.#labelIds[row] = -1;
    this.#items[row] = undefined;
    this.#live--;
    this.#rowOf.delete(id);
    this.#dead++;
    this.#toResident((v) => void v.remove([row]).catch(() => undefined));
    this.#maybeCompact();
    this.#snap = undefined;
    return true;
  }

  /** All live items, in row order (for snapshots to disk). */
  *entries(): IterableIterator<ReferenceItem> {
    const items = this.#items.slice(0, this.#rows);
    for (const it of items) if (it) yield it;
  }

  /**
   * The resident vector index of the live rows (ids = row numbers, labels = label ids), created
   * on first call on `backend` and kept up to date by every later write.
   *
   * @param backend where it runs (default: wasm-simd on one thread)
   * @returns the index (cosine, of this index's kind)
   */
  resident(backend?: Backend): Promise<VectorIndex> {
    if (!this.#resident) {
      const rows: number[] = [];
      for (let r = 0; r < this.#rows; r++) if (this.#items[r]) rows.push(r);
      const data = new Float32Array(rows.length * this.dim);
      rows.forEach((r, i) => data.set(this.#items[r]!.vector, i * this.dim));
      const labels = rows.map((r) => this.#labelIds[r]);
      this.#resident = (async () => {
        const v = await createIndex(
          {
            dim: this.dim,
            metric: "cosine",
            kind: this.kind,
            ...(this.kind === "hnsw" ? { hnsw: this.hnsw, buildThreads: this.buildThreads } : {}),
            capacity: Math.max(1024, rows.length),
          },
          backend,
        );
        if (rows.length) await v.add({ data, rows: rows.length, cols: this.dim }, { ids: rows, labels });
        this.#ready = v;
        return v;
      })();
    }
    return this.#resident;
  }

  /**
   * What the resident index reports (kind, size, memory, parameters), once it exists.
   *
   * @returns its info, or undefined before the first {@link ReferenceIndex.resident} call resolved
   */
  info(): IndexInfo | undefined {
    return this.#ready?.info();
  }

  /**
   * The JS side in plain arrays and, saved by the resident index after every write made before
   * this call (and none made after), its bytes: together a consistent snapshot of this moment.
   *
   * @param backend where the resident index runs, if it does not exist yet
   * @returns the state (taken now) and the resident index's saved bytes (resolving later)
   */
  _save(backend?: Backend): { state: ReferenceIndexState; bytes: Promise<Uint8Array> } {
    const live = this.#live;
    const liveRows = new Int32Array(live), labelIds = new Int32Array(live);
    const ids: string[] = new Array(live);
    const payloads: [number, unknown][] = [];
    let i = 0;
    for (let row = 0; row < this.#rows; row++) {
      const it = this.#items[row];
      if (!it) continue;
      liveRows[i] = row;
      labelIds[i] = this.#labelIds[row];
      ids[i] = it.id;
      if (it.payload !== undefined) payloads.push([i, it.payload]);
      i++;
    }
    const state: ReferenceIndexState = {
      rows: this.#rows,
      dead: this.#dead,
      labels: [...this.#labelIndex.keys()],
      liveRows,
      labelIds,
      ids,
      payloads,
    };
    if (!this.#resident) void this.resident(backend);
    let bytes!: Promise<Uint8Array>;
    const queued = new Promise<void>((queuedOk) => {
      this.#toResident((v) => {
        bytes = v.save();
        queuedOk();
      });
    });
    return { state, bytes: queued.then(() => bytes) };
  }

  /**
   * An index from a saved state and the resident index saved with it (see {@link ReferenceIndex._save}).
   *
   * @param dim vector dimension
   * @param options kind and HNSW parameters (must match the resident index)
   * @param state the JS side
   * @param resident the loaded resident index (ids = rows)
   * @param vectorOf the stored vector of live item i (as the resident index holds it)
   * @returns the index
   */
  static _restore(
    dim: number,
    options: ReferenceIndexOptions,
    state: ReferenceIndexState,
    resident: VectorIndex,
    vectorOf: (i: number) => Float32Array,
  ): ReferenceIndex {
    const index = new ReferenceIndex(dim, { ...options, capacity: Math.max(1024, state.rows) });
    index.#labelIds.fill(-1);
    index.#rows = state.rows;
    index.#dead = state.dead;
    state.labels.forEach((l, lid) => index.#labelIndex.set(l, lid));
    const { liveRows, labelIds, ids, payloads, labels } = state;
    const alive = index.#alive, lids = index.#labelIds;
    const items: (ReferenceItem | undefined)[] = new Array(state.rows);
    let next = 0;
    for (let i = 0; i < liveRows.length; i++) {
      const row = liveRows[i];
      const it = new RestoredItem(ids[i], labels[labelIds[i]], i, vectorOf);
      while (next < payloads.length && payloads[next][0] < i) next++;
      if (next < payloads.length && payloads[next][0] === i) it.payload = payloads[next][1];
      alive[row] = 1;
      lids[row] = labelIds[i];
      items[row] = it;
    }
    index.#items = items;
    index.#live = liveRows.length;
    const rowOf = new IdTable(liveRows.length);
    for (let i = 0; i < liveRows.length; i++) rowOf.set(ids[i], liveRows[i]);
    index.#rowOf = rowOf;
    index.#ready = resident;
    index.#resident = Promise.resolve(resident);
    return index;
  }

  /** Release the resident index (its memory and Workers). */
  dispose(): void {
    const r = this.#resident;
    this.#resident = null;
    this.#ready = undefined;
    void r?.then((v) => v.dispose(), () => undefined);
  }

  /** The current snapshot: a view, not a copy (see the module doc). */
  snapshot(): IndexSnapshot {
    if (!this.#snap) {
      const rows = this.#rows, dim = this.dim, all = this.#items;
      let data: Float32Array | undefined;
      let items: (ReferenceItem | undefined)[] | undefined;
      this.#snap = {
        get data() {
          if (!data) {
            data = new Float32Array(rows * dim);
            for (let r = 0; r < rows; r++) {
              const it = all[r];
              if (it) data.set(it.vector, r * dim);
            }
          }
          return data;
        },
        rows,
        dim,
        alive: this.#alive,
        labelIds: this.#labelIds,
        get items() {
          if (!items) {
            items = new Array(rows);
            for (let r = 0; r < rows; r++) items[r] = all[r];
          }
          return items;
        },
        live: this.#live,
        labelIndex: this.#labelIndex,
      };
    }
    return this.#snap;
  }

  #grow(rows: number): void {
    if (rows <= this.#alive.length) return;
    let cap = this.#alive.length;
    while (cap < rows) cap *= 2;
    const alive = new Uint8Array(cap);
    alive.set(this.#alive);
    const labels = new Int32Array(cap).fill(-1);
    labels.set(this.#labelIds);
    this.#alive = alive;
    this.#labelIds = labels;
  }

  /** Apply a write to the resident index (in call order), if there is one. */
  #toResident(f: (v: VectorIndex) => void): void {
    if (!this.#resident) return;
    this.#resident = this.#resident.then((v) => {
      f(v);
      return v;
    });
  }

  #maybeCompact(): void {
    if (this.#dead < 64 || this.#dead < this.#live) return;
    this.#dead = 0;
    // Ids (row numbers) stay: the resident index reclaims tombstones in place. Rows below
    // #rows keep their numbers, so there is nothing to renumber here.
    this.#toResident((v) => void v.compact().catch(() => undefined));
  }
}
