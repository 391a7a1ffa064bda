/**
 * The HNSW graph kernel (`kernels/hnsw/`) behind a small synchronous JS class: it owns one
 * WebAssembly memory holding the rows, the graph and the search scratch, grows it by doubling,
 * and calls the kernel's `insert`, `search` and `exact` exports. No validation happens here:
 * `@likeness/backend`'s `HnswIndex` validates at its public boundary and maps ids and labels.
 *
 * Memory layout (byte offsets laid out from the module's heap base, each region 16-byte aligned,
 * `cap` = row capacity, `M0 = 2·M`):
 *
 * | region | bytes | content |
 * |---|---|---|
 * | `vec` | cap·dim·4 | rows, float32, insertion order |
 * | `codes` | cap·align16(dim) | int8 code rows (only with `codes: true`; zero padded) |
 * | `links0` | cap·(1 + M0)·4 | layer-0 lists: count, then up to M0 node indices |
 * | `levels` | cap·4 | top layer of each node |
 * | `upperOff` | cap·4 | first int32 slot of the node's upper lists in `upper` |
 * | `deleted` | cap | 1 = tombstone |
 * | `eligible` | cap | filter bytes of the current search |
 * | `tags`, `cand`, `res`, `work` | cap·4, 3·(cap + 1)·8 | search scratch (visit tags, heaps) |
 * | `nb` | (M0 + 2)·8 | scratch for shrinking a list |
 * | `ctl` | 32 (threads only) | control words of a multi-threaded build |
 * | `locks` | cap·4 (threads only) | one spin lock per node |
 * | `tscratch` | (threads − 1)·(tags … nb) | the Workers' own search scratch |
 * | `io` | grows | queries, results, node lists |
 * | `upper` | upperCap·4 | per node with level L ≥ 1: L lists of (1 + M) int32 |
 *
 * Multi-threaded build (`threads` ≥ 2): the memory is shared and the threads build of the kernel
 * runs; `addThreaded` links the new rows on the calling thread and `threads − 1` Workers at once,
 * each claiming the next node from a shared counter and taking a node's spin lock while it reads
 * or rewrites that node's lists (hnswlib's scheme, written from the paper's Algorithm 1 here). The
 * insertion order interleaves, so the graph is not bit-identical to a one-thread build (nor from
 * run to run); its recall is the same within noise (`hnsw_threads_test.ts`, `bench:ann`). A
 * one-thread build stays deterministic.
 *
 * @module
 */
import { LikenessError } from "@likeness/core";
import { KernelModule } from "./wasm_module.ts";
import { type HnswBuildJob, HnswBuildPool, type HnswSearchJob } from "./_hnsw_build_pool.ts";
import { wasmBytes as scalarBytes } from "./generated/hnsw_scalar.generated.ts";
import { wasmBytes as simdBytes } from "./generated/hnsw_simd.generated.ts";
import { wasmBytes as scalarMtBytes } from "./generated/hnsw_scalar_mt.generated.ts";
import { wasmBytes as simdMtBytes } from "./generated/hnsw_simd_mt.generated.ts";

/** Which build of the HNSW kernel runs: `simd` (f32x4, no FMA) or `scalar`. */
export type HnswVariant = "scalar" | "simd";

/** Distance kind of the graph: 0 negated dot (dot, cosine on unit rows), 1 squared L2, 2 L1. */
export type HnswDistanceKind = 0 | 1 | 2;

/** Graph parameters fixed at creation. */
export interface HnswGraphOptions {
  /** Row length. */
  dim: number;
  /** Distance kind (smaller = closer). */
  kind: HnswDistanceKind;
  /** Links per node above layer 0 (layer 0 keeps 2·M). */
  M: number;
  /** Kernel build. */
  variant: HnswVariant;
  /** Initial row capacity [1024]. */
  capacity?: number;
  /**
   * Keep int8 codes of the rows beside them and walk the graph on codes at search time (the best
   * max(ef, k) candidates are reranked in float32) [false]. The build always uses float32.
   */
  codes?: boolean;
  /**
   * Threads of a build (the calling thread and `threads − 1` Workers) [1]. With 2 or more the
   * memory is shared and {@link HnswGraph.addThreaded} builds in parallel.
   */
  threads?: number;
}

/**
 * The int8 quantizer of the codes: `code = clamp(round((x − offset[k]) / scale), −127, 127)`, one
 * offset per dimension (0 for the dot kind, the middle of the rows' range otherwise) and one scale
 * (so code distances are proportional to distances between the quantized rows).
 */
export interface HnswQuantizer {
  /** Per-dimension offset. */
  offset: Float32Array;
  /** Common scale (> 0). */
  scale: number;
}

/** The graph's own arrays (for saving), copied out of WebAssembly memory. */
export interface HnswGraphArrays {
  /** Rows inserted (tombstones included). */
  count: number;
  /** Entry node (-1 when empty). */
  entry: number;
  /** Top layer (-1 when empty). */
  maxLevel: number;
  /** count × dim rows. */
  vectors: Float32Array;
  /** count levels. */
  levels: Int32Array;
  /** count upper-list offsets. */
  upperOff: Int32Array;
  /** count × (1 + 2M) layer-0 lists. */
  links0: Int32Array;
  /** Upper lists in use. */
  upper: Int32Array;
  /** count tombstone bytes. */
  deleted: Uint8Array;
  /** The quantizer of the int8 codes (absent without codes; the codes follow from it and the rows). */
  quantizer?: HnswQuantizer;
}

type Fn = (...args: number[]) => number;

interface Layout {
  cap: number;
  ioBytes: number;
  upperCap: number;
  off: Record<RegionName, number>;
  size: Record<RegionName, number>;
  end: number;
}

const REGIONS = [
  "vec",
  "codes",
  "links0",
  "levels",
  "upperOff",
  "deleted",
  "eligible",
  "tags",
  "cand",
  "res",
  "work",
  "nb",
  "ctl",
  "locks",
  "tscratch",
  "io",
  "upper",
] as const;
type RegionName = typeof REGIONS[number];

const align = (n: number) => (n + 15) & ~15;

/** Regions relayout does not copy (scratch, filter bytes, build state). */
const UNCOPIED: ReadonlySet<string> = new Set(["io", "eligible", "ctl", "locks", "tscratch"]);

/** Control words of a threaded build (int32 index in `ctl`): as in kernels/hnsw/graph.ts. */
const CTL_NEXT = 0, CTL_END = 1, CTL_ENTRY = 2, CTL_MAXL = 3, CTL_FAILED = 5;

/**
 * An HNSW graph in one WebAssembly memory (internal building block of `HnswIndex`).
 *
 * @example
 * ```ts
 * import { HnswGraph } from "@likeness/kernels";
 * const g = await HnswGraph.create({ dim: 2, kind: 1, M: 4, variant: "scalar" });
 * g.add(new Float32Array([0, 0, 1, 0, 0, 1]), new Int32Array([0, 0, 0]), 16);
 * const r = g.search(new Float32Array([0.9, 0.1]), 1, 1, 16, null);
 * console.log(r.nodes[0]); // 1
 * ```
 */
export class HnswGraph {
  /** Row length. */
  readonly dim: number;
  /** Distance kind. */
  readonly kind: HnswDistanceKind;
  /** Links per node above layer 0. */
  readonly M: number;
  /** Kernel build. */
  readonly variant: HnswVariant;
  /** Rows inserted so far (tombstones included). */
  count = 0;
  /** int32 slots of `upper` in use. */
  upperUsed = 0;
  /** Whether the graph keeps int8 codes and walks on them at search time. */
  readonly codes: boolean;
  /** Bytes per code row (dim rounded up to 16; 0 without codes). */
  readonly codeBytes: number;
  private readonly module: KernelModule;
  private lay: Layout;
  /** Per-dimension range of every row in the graph (codes only): lo, hi. */
  private lo: Float64Array;
  private hi: Float64Array;
  private quant: HnswQuantizer | null = null;
  /** Threads of a build (1: single-threaded, deterministic). */
  readonly threads: number;
  private pool: HnswBuildPool | null = null;
  private poolStart: Promise<HnswBuildPool> | null = null;

  private constructor(options: HnswGraphOptions, module: KernelModule) {
    this.threads = options.threads ?? 1;
    this.dim = options.dim;
    this.kind = options.kind;
    this.M = options.M;
    this.variant = options.variant;
    this.codes = options.codes === true;
    this.codeBytes = this.codes ? align(this.dim) : 0;
    this.lo = new Float64Array(this.codes ? this.dim : 0).fill(Infinity);
    this.hi = new Float64Array(this.codes ? this.dim : 0).fill(-Infinity);
    this.module = module;
    this.lay = this.plan(Math.max(16, options.capacity ?? 1024), 1 << 16, 1024);
    module.ensure(this.lay.end);
    this.configure();
  }

  /**
   * Instantiate the kernel and an empty graph.
   *
   * @param options dimension, distance kind, M, variant, capacity
   * @returns the graph
   */
  static async create(options: HnswGraphOptions): Promise<HnswGraph> {
    const threaded = (options.threads ?? 1) > 1;
    const bytes = options.variant === "simd"
      ? (threaded ? simdMtBytes() : simdBytes())
      : (threaded ? scalarMtBytes() : scalarBytes());
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, ...(threaded ? { shared: true } : {}) });
    const module = await KernelModule.create(bytes, memory);
    return new HnswGraph(options, module);
  }

  /** Bytes of WebAssembly memory laid out (rows, graph, scratch). */
  get memoryBytes(): number {
    return this.lay.end - this.module.heapBase;
  }

  /** Row capacity. */
  get capacity(): number {
    return this.lay.cap;
  }

  private plan(cap: number, ioBytes: number, upperCap: number): Layout {
    const m0 = 2 * this.M;
    const t = this.threads > 1;
    const perThread = align(cap * 4) + 3 * align((cap + 1) * 8) + align((m0 + 2) * 8);
    const size: Record<RegionName, number> = {
      vec: cap * this.dim * 4,
      codes: cap * this.codeBytes,
      links0: cap * (1 + m0) * 4,
      levels: cap * 4,
      upperOff: cap * 4,
      deleted: cap,
      eligible: cap,
      tags: cap * 4,
      cand: (cap + 1) * 8,
      res: (cap + 1) * 8,
      work: (cap + 1) * 8,
      nb: (m0 + 2) * 8,
      ctl: t ? 32 : 0,
      locks: t ? cap * 4 : 0,
      tscratch: t ? (this.threads - 1) * perThread : 0,
      io: ioBytes,
      upper: upperCap * 4,
    };
    const off = {} as Record<RegionName, number>;
    let at = this.module.heapBase;
    for (const r of REGIONS) {
      off[r] = at;
      at = align(at + size[r]);
    }
    return { cap, ioBytes, upperCap, off, size, end: at };
  }

  /** Move to a larger layout (regions keep their order and only move up: copy from the last). */
  private relayout(cap: number, ioBytes: number, upperCap: number): void {
    const old = this.lay;
    const next = this.plan(cap, ioBytes, upperCap);
    this.module.ensure(next.end);
    const u8 = new Uint8Array(this.module.memory.buffer);
    for (let i = REGIONS.length - 1; i >= 0; i--) {
      const r = REGIONS[i];
      const keep = Math.min(old.size[r], next.size[r]);
      if (!UNCOPIED.has(r)) u8.copyWithin(next.off[r], old.off[r], old.off[r] + keep);
      u8.fill(0, next.off[r] + (UNCOPIED.has(r) ? 0 : keep), next.off[r] + next.size[r]);
    }
    this.lay = next;
    this.configure();
  }

  /** The kernel's `configure` arguments; thread t ≥ 1 gets its own scratch in `tscratch`. */
  private configureArgs(t = 0): number[] {
    const o = this.lay.off;
    let tags = o.tags, cand = o.cand, res = o.res, work = o.work, nb = o.nb;
    if (t > 0) {
      const cap = this.lay.cap;
      const sizes = [align(cap * 4), align((cap + 1) * 8), align((cap + 1) * 8), align((cap + 1) * 8)];
      let at = o.tscratch + (t - 1) * (sizes.reduce((a, b) => a + b, 0) + align((2 * this.M + 2) * 8));
      [tags, cand, res, work] = sizes.map((s) => (at += s) - s);
      nb = at;
    }
    return [
      o.vec,
      this.dim,
      this.kind,
      this.M,
      o.links0,
      o.levels,
      o.upperOff,
      o.upper,
      o.deleted,
      tags,
      cand,
      res,
      work,
      nb,
    ];
  }

  private configure(): void {
    const o = this.lay.off;
    this.fn("configure")(...this.configureArgs());
    this.fn("configureCodes")(this.codes ? o.codes : 0, this.codeBytes);
  }

  private fn(name: string): Fn {
    return this.module.fn<Fn>(name);
  }

  private ensureRows(rows: number): void {
    if (rows <= this.lay.cap) return;
    let cap = this.lay.cap;
    while (cap < rows) cap *= 2;
    this.relayout(cap, this.lay.ioBytes, this.lay.upperCap);
  }

  private ensureIo(bytes: number): void {
    if (bytes <= this.lay.ioBytes) return;
    let io = this.lay.ioBytes;
    while (io < bytes) io *= 2;
    this.relayout(this.lay.cap, io, this.lay.upperCap);
  }

  private ensureUpper(slots: number): void {
    if (slots <= this.lay.upperCap) return;
    let u = this.lay.upperCap;
    while (u < slots) u *= 2;
    this.relayout(this.lay.cap, this.lay.ioBytes, u);
  }

  private view<T extends Int32Array | Float32Array | Uint8Array | Int8Array>(
    ctor: { new (b: ArrayBuffer, o: number, n: number): T },
    region: RegionName,
    at = 0,
    n?: number,
  ): T {
    const bpe = ctor === (Uint8Array as unknown) || ctor === (Int8Array as unknown) ? 1 : 4;
    const len = n ?? this.lay.size[region] / bpe;
    return new ctor(this.module.memory.buffer as ArrayBuffer, this.lay.off[region] + at * bpe, len);
  }

  /** Reserve room for `rows` more rows (optional; `add` grows by doubling anyway). */
  reserve(rows: number): void {
    this.ensureRows(this.count + rows);
  }

  /**
   * Append rows and link them in order (Algorithm 1 of the paper for each).
   *
   * @param rows n × dim values (already normalised for cosine)
   * @param levels the top layer of each new node (seeded by the caller)
   * @param efConstruction candidate list size while linking
   */
  add(rows: Float32Array, levels: Int32Array, efConstruction: number): void {
    const n0 = this.stage(rows, levels);
    this.fn("insertRange")(n0, this.count, efConstruction);
  }

  /**
   * Append rows and link them on {@link HnswGraph.threads} threads at once (see the module doc:
   * not bit-identical to {@link HnswGraph.add}, same quality). Falls back to `add` with one thread
   * or fewer than 64 rows. On a Worker failure the graph is rolled back to what it was (no row is
   * added, links to the new rows are dropped, the entry point restored), the Workers are stopped
   * (the next call starts new ones) and the call throws.
   *
   * @param rows n × dim values (already normalised for cosine)
   * @param levels the top layer of each new node
   * @param efConstruction candidate list size while linking
   * @throws {LikenessError} WORKER_FAILED when a Worker cannot start or dies during the build
   */
  async addThreaded(rows: Float32Array, levels: Int32Array, efConstruction: number): Promise<void> {
    if (this.threads < 2 || levels.length < 64) return this.add(rows, levels, efConstruction);
    const pool = await this.startPool();
    if (pool.failure !== null) throw this.poolFailed(pool.failure);
    const saved = {
      count: this.count,
      upperUsed: this.upperUsed,
      entry: this.fn("entryPoint")(),
      maxLevel: this.fn("maxLevel")(),
      lo: this.lo.slice(),
      hi: this.hi.slice(),
      quant: this.quant,
    };
    const n0 = this.stage(rows, levels);
    let start = n0;
    if (saved.entry < 0) this.fn("insertRange")(n0, ++start, efConstruction);
    const o = this.lay.off;
    const ctl = this.view(Int32Array, "ctl", 0, 8);
    ctl.fill(0);
    ctl[CTL_NEXT] = start;
    ctl[CTL_END] = this.count;
    ctl[CTL_ENTRY] = this.fn("entryPoint")();
    ctl[CTL_MAXL] = this.fn("maxLevel")();
    this.view(Int32Array, "locks", 0, this.count).fill(0);
    const jobs: HnswBuildJob[] = [];
    for (let t = 1; t < this.threads; t++) {
      jobs.push({
        configure: this.configureArgs(t),
        codes: [this.codes ? o.codes : 0, this.codeBytes],
        threads: [o.locks, o.ctl],
        efc: efConstruction,
      });
    }
    pool.post(jobs);
    this.fn("configureThreads")(o.locks, o.ctl);
    let mine = 0;
    try {
      mine = this.fn("insertShared")(efConstruction);
    } finally {
      this.fn("configureThreads")(0, 0);
    }
    const failure = (await pool.join()) ??
      (Atomics.load(ctl, CTL_FAILED) !== 0 ? "a node lock was never released" : null);
    if (failure !== null) {
      this.rollback(saved);
      throw this.poolFailed(failure);
    }
    this.fn("setEntry")(Atomics.load(ctl, CTL_ENTRY), Atomics.load(ctl, CTL_MAXL));
    this.lastBuildShares = [mine + start - n0, ...pool.inserted];
  }

  /**
   * Nodes each thread linked in the last threaded `addThreaded` (calling thread first; the first
   * node of an empty graph counts for it), or null before one.
   */
  lastBuildShares: number[] | null = null;

  private async startPool(): Promise<HnswBuildPool> {
    if (this.pool) return this.pool;
    const bytes = this.variant === "simd" ? simdMtBytes() : scalarMtBytes();
    this.poolStart ??= HnswBuildPool.start(bytes, this.module.memory, this.threads);
    try {
      this.pool = await this.poolStart;
      return this.pool;
    } catch (e) {
      this.poolStart = null;
      throw new LikenessError("WORKER_FAILED", `Cannot start the HNSW build Workers: ${(e as Error).message}`);
    } finally {
      if (this.pool === null) this.poolStart = null;
    }
  }

  private poolFailed(why: string): LikenessError {
    this.dispose();
    return new LikenessError(
      "WORKER_FAILED",
      `Cannot add: an HNSW build Worker failed (${why}); nothing was added, the next add starts new Workers`,
    );
  }

  /** Undo a failed threaded build: drop links to rows ≥ count, restore the counters and codes. */
  private rollback(saved: {
    count: number;
    upperUsed: number;
    entry: number;
    maxLevel: number;
    lo: Float64Array;
    hi: Float64Array;
    quant: HnswQuantizer | null;
  }): void {
    const n0 = saved.count;
    const drop = (list: Int32Array, at: number) => {
      const cnt = list[at];
      let w = 0;
      for (let j = 1; j <= cnt; j++) if (list[at + j] < n0) list[at + ++w] = list[at + j];
      list[at] = w;
    };
    const s0 = 1 + 2 * this.M;
    const l0 = this.view(Int32Array, "links0", 0, n0 * s0);
    for (let u = 0; u < n0; u++) drop(l0, u * s0);
    const levels = this.view(Int32Array, "levels", 0, n0);
    const uo = this.view(Int32Array, "upperOff", 0, n0);
    const up = this.view(Int32Array, "upper", 0, saved.upperUsed);
    for (let u = 0; u < n0; u++) for (let l = 1; l <= levels[u]; l++) drop(up, uo[u] + (l - 1) * (1 + this.M));
    this.count = n0;
    this.upperUsed = saved.upperUsed;
    this.fn("setEntry")(saved.entry, saved.maxLevel);
    if (this.codes) {
      const refit = saved.quant !== this.quant;
      this.lo = saved.lo;
      this.hi = saved.hi;
      this.quant = saved.quant;
      if (refit && this.quant) this.encodeRows(0, n0);
    }
  }

  /**
   * Test-only: make build Worker `tid` die (`throw`: at its next job; `terminate`: now).
   *
   * @param how `throw` or `terminate`
   * @param tid 1 ≤ tid < threads
   */
  async injectBuildFault(how: "throw" | "terminate", tid: number): Promise<void> {
    (await this.startPool()).injectFault(how, tid);
  }

  /** Stop the build Workers (a later threaded add starts new ones). */
  dispose(): void {
    this.pool?.dispose();
    this.pool = null;
    this.poolStart = null;
  }

  /** Copy new rows, levels and upper offsets in and count them (their lists are not linked yet); returns the first new node. */
  private stage(rows: Float32Array, levels: Int32Array): number {
    const n = levels.length;
    const n0 = this.count;
    this.ensureRows(n0 + n);
    let upperNeed = this.upperUsed;
    for (let i = 0; i < n; i++) upperNeed += levels[i] * (1 + this.M);
    this.ensureUpper(upperNeed);
    this.view(Float32Array, "vec", n0 * this.dim, n * this.dim).set(rows.subarray(0, n * this.dim));
    this.view(Int32Array, "levels", n0, n).set(levels);
    const uo = this.view(Int32Array, "upperOff", n0, n);
    for (let i = 0; i < n; i++) {
      uo[i] = levels[i] > 0 ? this.upperUsed : 0;
      this.upperUsed += levels[i] * (1 + this.M);
    }
    this.count = n0 + n;
    if (this.codes) this.encodeNew(n0, n);
    return n0;
  }

  /**
   * Codes of rows [n0, n0 + n): when they stay inside the range the quantizer was fitted on, only
   * theirs; else the quantizer is refitted on every row's range and every code rewritten (so a
   * code is never clamped, and the codes depend only on the rows in the graph).
   */
  private encodeNew(n0: number, n: number): void {
    const d = this.dim;
    const rows = this.view(Float32Array, "vec", n0 * d, n * d);
    let grew = this.quant === null;
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < d; k++) {
        const v = rows[i * d + k];
        if (v < this.lo[k]) (this.lo[k] = v, grew = true);
        if (v > this.hi[k]) (this.hi[k] = v, grew = true);
      }
    }
    if (grew) {
      this.quant = this.fitQuantizer();
      this.encodeRows(0, this.count);
    } else this.encodeRows(n0, n);
  }

  /** The quantizer of the current range (see {@link HnswQuantizer}). */
  private fitQuantizer(): HnswQuantizer {
    const d = this.dim;
    const offset = new Float32Array(d);
    let half = 0;
    for (let k = 0; k < d; k++) {
      if (this.kind === 0) half = Math.max(half, Math.abs(this.lo[k]), Math.abs(this.hi[k]));
      else {
        offset[k] = (this.lo[k] + this.hi[k]) / 2;
        half = Math.max(half, (this.hi[k] - this.lo[k]) / 2);
      }
    }
    return { offset, scale: half > 0 && Number.isFinite(half) ? half / 127 : 1 };
  }

  /** Write the codes of rows [n0, n0 + n) from their float32 rows. */
  private encodeRows(n0: number, n: number): void {
    const d = this.dim;
    this.encodeInto(
      this.view(Float32Array, "vec", n0 * d, n * d),
      n,
      this.view(Int8Array, "codes", n0 * this.codeBytes, n * this.codeBytes),
    );
  }

  /** Codes of n rows (padded to {@link HnswGraph.codeBytes}) into out. */
  private encodeInto(rows: Float32Array, n: number, out: Int8Array): void {
    const d = this.dim;
    const cb = this.codeBytes;
    const { offset, scale } = this.quant!;
    const inv = 1 / scale;
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < d; k++) {
        const c = Math.round((rows[i * d + k] - offset[k]) * inv);
        out[i * cb + k] = c > 127 ? 127 : c < -127 ? -127 : c;
      }
      out.fill(0, i * cb + d, (i + 1) * cb);
    }
  }

  /** Mark a node as a tombstone (searches skip it; it still routes). */
  markDeleted(node: number): void {
    this.view(Uint8Array, "deleted", node, 1)[0] = 1;
  }

  /** Whether a node is a tombstone. */
  isDeleted(node: number): boolean {
    return this.view(Uint8Array, "deleted", node, 1)[0] !== 0;
  }

  /** A live view of the tombstone bytes of the first `count` rows (invalid after the next `add`). */
  deletedView(): Uint8Array {
    return this.view(Uint8Array, "deleted", 0, this.count);
  }

  /** A copy of a node's row. */
  row(node: number): Float32Array {
    return this.view(Float32Array, "vec", node * this.dim, this.dim).slice();
  }

  /** A live view of the first `count` rows (invalid after the next `add`). */
  rowsView(): Float32Array {
    return this.view(Float32Array, "vec", 0, this.count * this.dim);
  }

  /**
   * k nearest accepted nodes per query (Algorithm 5), ascending internal distance.
   *
   * @param queries nq × dim values
   * @param nq query rows
   * @param k results per query
   * @param ef candidate list size (max(ef, k) is used; when it covers every node the walk starts at
   *   the entry point and, after {@link HnswGraph.repair}, visits every node: the search is exact)
   * @param eligible one byte per node (non-zero = may be returned) or null for no filter
   * @param floatWalk walk on float32 rows even when the graph keeps codes [false]
   * @returns nq × k node indices (-1 padding) and internal distances (+Infinity padding; float32
   *   distances, also after a walk on codes)
   */
  search(
    queries: Float32Array,
    nq: number,
    k: number,
    ef: number,
    eligible: Uint8Array | null,
    floatWalk = false,
  ): { nodes: Int32Array; dists: Float32Array } {
    const batch = this.searchBatch(queries, nq, k, ef, eligible, floatWalk);
    this.fn("search")(...batch.args(0, nq));
    return batch.read();
  }

  /**
   * Lay a search batch out in the io region (queries, both outputs, the query codes for a walk on
   * codes) and the filter in `eligible`; returns the kernel's `search` arguments for the queries
   * [s, s + n) and a reader of the results.
   */
  private searchBatch(
    queries: Float32Array,
    nq: number,
    k: number,
    ef: number,
    eligible: Uint8Array | null,
    floatWalk: boolean,
  ): { args: (s: number, n: number) => number[]; read: () => { nodes: Int32Array; dists: Float32Array } } {
    const codes = this.codes && this.quant !== null && !floatWalk;
    const qBytes = align(nq * this.dim * 4);
    const oBytes = align(nq * k * 4);
    this.ensureIo(qBytes + 2 * oBytes + (codes ? nq * this.codeBytes : 0));
    const o = this.lay.off;
    const io = o.io;
    this.view(Float32Array, "io", 0, nq * this.dim).set(queries.subarray(0, nq * this.dim));
    if (eligible) this.view(Uint8Array, "eligible", 0, this.count).set(eligible.subarray(0, this.count));
    const full = Math.max(ef, k) >= this.count ? 1 : 0;
    const qc = codes ? io + qBytes + 2 * oBytes : 0;
    if (codes) this.encodeInto(queries, nq, this.view(Int8Array, "io", qBytes + 2 * oBytes, nq * this.codeBytes));
    const filt = eligible ? o.eligible : 0;
    const oi = io + qBytes, od = io + qBytes + oBytes;
    return {
      args: (s, n) => [
        io + s * this.dim * 4,
        n,
        k,
        ef,
        filt,
        oi + s * k * 4,
        od + s * k * 4,
        full,
        qc ? qc + s * this.codeBytes : 0,
      ],
      read: () => ({
        nodes: this.view(Int32Array, "io", qBytes / 4, nq * k).slice(),
        dists: this.view(Float32Array, "io", (qBytes + oBytes) / 4, nq * k).slice(),
      }),
    };
  }

  /**
   * {@link HnswGraph.search} with the queries split across the build's threads (graphs with
   * `threads` ≥ 2): the calling thread walks the first share, each Worker the next, all on the
   * shared memory with their own scratch. Each query's walk is the same as on one thread, so the
   * results equal {@link HnswGraph.search}'s. One query, one thread, or a pool that failed: the
   * calling thread searches them all. The caller must not change the graph until it resolves.
   *
   * @param queries nq × dim values
   * @param nq query rows
   * @param k results per query
   * @param ef candidate list size
   * @param eligible one byte per node or null
   * @param floatWalk walk on float32 rows even when the graph keeps codes [false]
   * @returns as {@link HnswGraph.search}
   */
  async searchThreaded(
    queries: Float32Array,
    nq: number,
    k: number,
    ef: number,
    eligible: Uint8Array | null,
    floatWalk = false,
  ): Promise<{ nodes: Int32Array; dists: Float32Array }> {
    if (this.threads < 2 || nq < 2) return this.search(queries, nq, k, ef, eligible, floatWalk);
    let pool: HnswBuildPool;
    try {
      pool = await this.startPool();
    } catch {
      return this.search(queries, nq, k, ef, eligible, floatWalk);
    }
    if (pool.failure !== null) return this.search(queries, nq, k, ef, eligible, floatWalk);
    const batch = this.searchBatch(queries, nq, k, ef, eligible, floatWalk);
    const o = this.lay.off;
    const share = Math.ceil(nq / this.threads);
    const entry: [number, number] = [this.fn("entryPoint")(), this.fn("maxLevel")()];
    const jobs: HnswSearchJob[] = [];
    for (let t = 1; t < this.threads; t++) {
      const s = Math.min(nq, t * share);
      jobs.push({
        configure: this.configureArgs(t),
        codes: [this.codes ? o.codes : 0, this.codeBytes],
        entry,
        search: batch.args(s, Math.min(nq, s + share) - s),
      });
    }
    pool.post(jobs);
    this.fn("search")(...batch.args(0, Math.min(nq, share)));
    if ((await pool.join()) !== null) {
      // A Worker died: its share is not trusted; stop the pool and search on this thread.
      this.dispose();
      return this.search(queries, nq, k, ef, eligible, floatWalk);
    }
    return batch.read();
  }

  /** Layer-0 reachability from the entry point: one byte per node (1 = reachable). */
  reachable(): Uint8Array {
    const n = this.count;
    const seen = new Uint8Array(n);
    const entry = this.fn("entryPoint")();
    if (entry < 0) return seen;
    const l0 = this.view(Int32Array, "links0", 0, n * (1 + 2 * this.M));
    this.flood(l0, seen, entry);
    return seen;
  }

  private flood(l0: Int32Array, seen: Uint8Array, from: number): void {
    const s0 = 1 + 2 * this.M;
    const stack = [from];
    seen[from] = 1;
    while (stack.length > 0) {
      const c = stack.pop()!;
      const cnt = l0[c * s0];
      for (let j = 1; j <= cnt; j++) {
        const v = l0[c * s0 + j];
        if (!seen[v]) {
          seen[v] = 1;
          stack.push(v);
        }
      }
    }
  }

  /**
   * Make every node reachable on layer 0 from the entry point (the neighbour heuristic can prune
   * the last in-link of a node): each unreachable node, in order, gets an in-link from its nearest
   * reachable node (appended, or replacing that node's last link when its list is full), then the
   * check repeats (at most 8 rounds).
   *
   * @param ef candidate list size of the nearest-node searches
   * @returns the number of links added
   */
  repair(ef: number): number {
    const n = this.count;
    const s0 = 1 + 2 * this.M;
    let added = 0;
    for (let round = 0; round < 8; round++) {
      const seen = this.reachable();
      let missing = 0;
      for (let u = 0; u < n; u++) missing += seen[u] ? 0 : 1;
      if (missing === 0) break;
      for (let u = 0; u < n; u++) {
        if (seen[u]) continue;
        const hit = this.search(this.row(u), 1, 16, Math.max(ef, 16), seen, true);
        const l0 = this.view(Int32Array, "links0", 0, n * s0);
        // The nearest reachable node with room, else the nearest (its last link is replaced).
        let w = hit.nodes[0] >= 0 ? hit.nodes[0] : this.fn("entryPoint")();
        for (let j = 0; j < 16; j++) {
          const c = hit.nodes[j];
          if (c >= 0 && l0[c * s0] < 2 * this.M) {
            w = c;
            break;
          }
        }
        const cnt = l0[w * s0];
        if (cnt < 2 * this.M) {
          l0[w * s0 + 1 + cnt] = u;
          l0[w * s0] = cnt + 1;
        } else l0[w * s0 + cnt] = u;
        added++;
        this.flood(l0, seen, u);
      }
    }
    return added;
  }

  /**
   * Exact k nearest among an explicit node list (the filtered fallback), ascending.
   *
   * @param queries nq × dim values
   * @param nq query rows
   * @param k results per query
   * @param nodes node indices to scan
   * @returns as {@link HnswGraph.search}
   */
  exact(queries: Float32Array, nq: number, k: number, nodes: Int32Array): { nodes: Int32Array; dists: Float32Array } {
    return this.run(queries, nq, k, (q, oi, od, list) => {
      this.view(Int32Array, "io", list / 4, nodes.length).set(nodes);
      this.fn("exact")(q, nq, k, this.lay.off.io + list, nodes.length, oi, od);
    }, nodes.length * 4);
  }

  private run(
    queries: Float32Array,
    nq: number,
    k: number,
    call: (q: number, outIdx: number, outDist: number, extraAt: number) => void,
    extraBytes: number,
  ): { nodes: Int32Array; dists: Float32Array } {
    const qBytes = align(nq * this.dim * 4);
    const oBytes = align(nq * k * 4);
    this.ensureIo(qBytes + 2 * oBytes + extraBytes);
    const io = this.lay.off.io;
    this.view(Float32Array, "io", 0, nq * this.dim).set(queries.subarray(0, nq * this.dim));
    call(io, io + qBytes, io + qBytes + oBytes, qBytes + 2 * oBytes);
    return {
      nodes: this.view(Int32Array, "io", qBytes / 4, nq * k).slice(),
      dists: this.view(Float32Array, "io", (qBytes + oBytes) / 4, nq * k).slice(),
    };
  }

  /** Internal distance between two stored nodes (test hook). */
  distance(a: number, b: number): number {
    const o = this.lay.off.vec;
    const rb = this.dim * 4;
    return this.fn("distance")(o + a * rb, o + b * rb);
  }

  /** Code distance between two stored nodes (test hook; graphs with codes only). */
  codeDistance(a: number, b: number): number {
    return this.fn("codeDistance")(a, b);
  }

  /** A copy of the code rows of the first `count` nodes (codeBytes each; empty without codes). */
  codeRows(): Int8Array {
    return this.view(Int8Array, "codes", 0, this.count * this.codeBytes).slice();
  }

  /** Copy the graph's arrays out (for saving and for graph-equality tests). */
  arrays(): HnswGraphArrays {
    const n = this.count;
    return {
      count: n,
      entry: this.fn("entryPoint")(),
      maxLevel: this.fn("maxLevel")(),
      vectors: this.view(Float32Array, "vec", 0, n * this.dim).slice(),
      levels: this.view(Int32Array, "levels", 0, n).slice(),
      upperOff: this.view(Int32Array, "upperOff", 0, n).slice(),
      links0: this.view(Int32Array, "links0", 0, n * (1 + 2 * this.M)).slice(),
      upper: this.view(Int32Array, "upper", 0, this.upperUsed).slice(),
      deleted: this.view(Uint8Array, "deleted", 0, n).slice(),
      ...(this.quant ? { quantizer: { offset: this.quant.offset.slice(), scale: this.quant.scale } } : {}),
    };
  }

  /**
   * Replace the whole graph by saved arrays (the caller checked their sizes and ranges).
   *
   * @param a arrays as returned by {@link HnswGraph.arrays}
   */
  restore(a: HnswGraphArrays): void {
    const n = a.count;
    this.ensureRows(n);
    this.ensureUpper(a.upper.length);
    this.view(Float32Array, "vec", 0, n * this.dim).set(a.vectors);
    this.view(Int32Array, "levels", 0, n).set(a.levels);
    this.view(Int32Array, "upperOff", 0, n).set(a.upperOff);
    this.view(Int32Array, "links0", 0, n * (1 + 2 * this.M)).set(a.links0);
    this.view(Int32Array, "upper", 0, a.upper.length).set(a.upper);
    const del = this.view(Uint8Array, "deleted");
    del.fill(0);
    del.set(a.deleted);
    this.count = n;
    this.upperUsed = a.upper.length;
    this.fn("setEntry")(a.entry, a.maxLevel);
    if (this.codes) {
      const d = this.dim;
      for (let i = 0; i < n * d; i++) {
        const k = i % d;
        if (a.vectors[i] < this.lo[k]) this.lo[k] = a.vectors[i];
        if (a.vectors[i] > this.hi[k]) this.hi[k] = a.vectors[i];
      }
      // The saved quantizer (the codes of the saved index exactly), else one fitted on the rows.
      this.quant = n === 0
        ? null
        : a.quantizer
        ? { offset: a.quantizer.offset.slice(), scale: a.quantizer.scale }
        : this.fitQuantizer();
      if (this.quant) this.encodeRows(0, n);
    }
  }
}
