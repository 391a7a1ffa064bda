/**
 * The `webgpu` backend: WGSL compute shaders for pairwise (all five metrics, tiled through
 * workgroup memory with `vec4` loads, the tile chosen from the adapter's limits), exact top-k
 * (k ≤ 256, two-pass selection streamed over reference blocks) and batch-hard mining. Every other
 * operation, and anything a shader cannot take (k > 256, a buffer over the device's binding
 * limit), goes to a delegate backend (normally `wasm-simd`); {@link WebGpuBackend.fallbacks}
 * counts those hand-offs. With `kernelTiming`, every GPU call records its kernel-only time from
 * timestamp queries when the adapter has the `timestamp-query` feature
 * ({@link WebGpuBackend.lastTiming}).
 *
 * @module
 */
import { checkPositiveInt, LikenessError, type Matrix, ValueError } from "@likeness/core";
import type {
  Backend,
  BackendInfo,
  BatchHardResult,
  Metric,
  MiningOptions,
  Pairs,
  RetrievalMetrics,
  TopKOptions,
  TopKResult,
  Triplets,
  TripletType,
} from "./types.ts";
import { _checkBatchHard, _checkPairwise, _checkTopK } from "./_validate.ts";
import {
  _batchHardWgsl,
  _GPU_MAX_K,
  _NORM_THREADS,
  _normsWgsl,
  _pairwiseWgsl,
  _tileCols,
  _tileRows,
  _tilingProblem,
  _topkMergeWgsl,
  _topkPartialWgsl,
  choosePairwiseTiling,
  type PairwiseTiling,
} from "./webgpu_shaders.ts";
export { choosePairwiseTiling, PAIRWISE_TILINGS } from "./webgpu_shaders.ts";
export type { PairwiseTiling, TilingLimits } from "./webgpu_shaders.ts";
import {
  adapterRecord,
  limitsRecord,
  probeWebGpu,
  type WebGpuAdapterRecord,
  type WebGpuProbe,
} from "./webgpu_probe.ts";

/** Options for {@link createWebGpuBackend}. */
export interface WebGpuBackendOptions {
  /** Backend for the operations without a shader (normally `wasm-simd`). Owned: disposed with this one. */
  delegate: Backend;
  /** Accept a software fallback adapter such as llvmpipe (default false: slower than WASM). */
  allowFallbackAdapter?: boolean;
  /** An adapter already probed with {@link probeWebGpu} (default: probe now). */
  probe?: WebGpuProbe;
  /**
   * Values in one pairwise output chunk and in the top-k scratch block (query chunk × reference
   * block); default 2^24 (64 MiB). Tests make it small so that pairwise runs in several query
   * chunks and top-k merges over several reference blocks and query chunks.
   */
  scratchFloats?: number;
  /**
   * Pairwise tiling (default: {@link choosePairwiseTiling} of the device's limits). Benchmarks
   * sweep it; it must fit the device's limits.
   */
  tiling?: PairwiseTiling;
  /** Columns of a distance block that one top-k pass-1 workgroup reduces (default 4096; tests make it small). */
  topkSegment?: number;
  /**
   * Record kernel-only time of every GPU call in {@link WebGpuBackend.lastTiming} (default false:
   * timestamp queries cost a little per pass). Uses `timestamp-query` when the adapter has it,
   * else wall time (and says so).
   */
  kernelTiming?: boolean;
}

/** What the `webgpu` backend reports: the common fields plus the adapter and device record. */
export interface WebGpuBackendInfo extends BackendInfo {
  /** Adapter info, limits and features, the device limits in use, the tiling and the timing source. */
  gpu: WebGpuAdapterRecord & {
    /** Limits of the device this backend requested (raised to the adapter's for the ones it uses). */
    deviceLimits: Record<string, number>;
    /** The pairwise tiling in use. */
    tiling: PairwiseTiling;
    /** Whether kernel-only timing by timestamp queries is available on this device. */
    timestampQuery: boolean;
  };
}

/** Time of the last GPU call (see {@link WebGpuBackendOptions.kernelTiming}). */
export interface WebGpuTiming {
  /** Operation (`pairwise`, `topk`, `batchHard`). */
  op: string;
  /** Wall time of the whole call in ms (upload, kernels, read-back). */
  wallMs: number;
  /** Sum of the compute passes' GPU time in ms, or null without `timestamp-query`. */
  kernelMs: number | null;
  /** Compute passes timed. */
  passes: number;
  /** Where `kernelMs` comes from. */
  source: "timestamp-query" | "wall";
  /** Caveats (no timestamp feature, passes beyond the query-set size not timed). */
  note?: string;
}

/** Default largest number of values the top-k scratch block holds (Q-chunk × reference-block). */
const SCRATCH_FLOATS = 1 << 24;
/** Largest query chunk per top-k pass (workgroups per dispatch dimension are limited to 65535). */
const QUERY_CHUNK = 16384;
/** Dispatch limit per dimension. */
const MAX_GROUPS = 65535;
/** Default columns per top-k pass-1 workgroup. */
const TOPK_SEGMENT = 4096;
/** Queries per timestamp query set (wgpu's limit is 4096). */
const MAX_QUERIES = 4096;
/** Device limits raised to the adapter's values when requesting the device. */
const WANTED_LIMITS = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
] as const;

const STORAGE = 0x80;
const COPY_SRC = 0x04;
const COPY_DST = 0x08;
const MAP_READ = 0x01;
const UNIFORM = 0x40;
const QUERY_RESOLVE = 0x200;
const MAP_MODE_READ = 0x01;

/**
 * Create the WebGPU backend. Requests a device with the adapter's largest storage-buffer and
 * compute-workgroup limits (and `timestamp-query` when present), then picks the pairwise tiling.
 *
 * @param options delegate backend, `allowFallbackAdapter`, optional pre-probed adapter, tiling, timing
 * @returns the backend
 * @throws {LikenessError} UNSUPPORTED when there is no adapter, when the adapter is a software
 *   fallback and `allowFallbackAdapter` is not set, or when the device or a shader fails to start
 * @throws {ValueError} INVALID_ARGUMENT when `tiling` does not fit the device or `topkSegment` is not a positive integer
 * @example
 * ```ts
 * import { createJsBackend, createWebGpuBackend } from "@likeness/backend";
 * const gpu = await createWebGpuBackend({ delegate: createJsBackend(), allowFallbackAdapter: true });
 * console.log(gpu.info.detail, gpu.info.gpu.tiling);
 * gpu.dispose();
 * ```
 */
export async function createWebGpuBackend(options: WebGpuBackendOptions): Promise<WebGpuBackend> {
  const probe = options.probe ?? (await probeWebGpu());
  if (!probe.adapter) throw new LikenessError("UNSUPPORTED", `WebGPU is unavailable: ${probe.reason}`);
  if (probe.fallback && !options.allowFallbackAdapter) {
    throw new LikenessError(
      "UNSUPPORTED",
      `WebGPU adapter "${probe.description}" is a software fallback (slower than WASM); ` +
        `pass allowFallbackAdapter: true to use it anyway`,
    );
  }
  const seg = checkPositiveInt(options.topkSegment ?? TOPK_SEGMENT, "topkSegment");
  const adapter = probe.adapter;
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) requiredLimits[name] = adapter.limits[name];
  const timestampQuery = adapter.features.has("timestamp-query");
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      requiredLimits,
      requiredFeatures: timestampQuery ? ["timestamp-query"] : [],
    });
  } catch (cause) {
    throw new LikenessError("UNSUPPORTED", `WebGPU device request failed: ${(cause as Error).message}`, { cause });
  }
  const tiling = options.tiling ? { ...options.tiling } : choosePairwiseTiling(device.limits);
  const problem = _tilingProblem(tiling, device.limits);
  if (problem) {
    device.destroy();
    throw new ValueError("INVALID_ARGUMENT", `Cannot use pairwise tiling ${JSON.stringify(tiling)}: ${problem}`);
  }
  const backend = new WebGpuBackend(device, probe, options.delegate, {
    scratchFloats: options.scratchFloats ?? SCRATCH_FLOATS,
    tiling,
    topkSegment: seg,
    kernelTiming: options.kernelTiming ?? false,
    timestampQuery: timestampQuery && device.features.has("timestamp-query"),
  });
  try {
    await backend._warm();
  } catch (cause) {
    backend.dispose();
    throw new LikenessError("UNSUPPORTED", `WebGPU shaders failed to compile: ${(cause as Error).message}`, { cause });
  }
  return backend;
}

/** Internal settings of a {@link WebGpuBackend}. */
interface Settings {
  scratchFloats: number;
  tiling: PairwiseTiling;
  topkSegment: number;
  kernelTiming: boolean;
  timestampQuery: boolean;
}

/** Timestamp writes for the passes of one submission, and their sum after the read-back. */
class PassTimer {
  readonly querySet?: GPUQuerySet;
  readonly capacity: number;
  used = 0;
  skipped = 0;
  count = 0;
  constructor(device: GPUDevice, passes: number, enabled: boolean) {
    this.capacity = enabled ? Math.min(MAX_QUERIES, 2 * Math.max(1, passes)) : 0;
    if (this.capacity > 0) this.querySet = device.createQuerySet({ type: "timestamp", count: this.capacity });
  }
  begin(enc: GPUCommandEncoder, label: string): GPUComputePassEncoder {
    this.count++;
    if (!this.querySet) return enc.beginComputePass({ label });
    if (this.used + 2 > this.capacity) {
      this.skipped++;
      return enc.beginComputePass({ label });
    }
    const at = this.used;
    this.used += 2;
    return enc.beginComputePass({
      label,
      timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: at, endOfPassWriteIndex: at + 1 },
    });
  }
}

/**
 * WebGPU implementation of {@link Backend}. Create it with {@link createWebGpuBackend}.
 *
 * @example
 * ```ts
 * import { createWasmBackend, createWebGpuBackend } from "@likeness/backend";
 * const gpu = await createWebGpuBackend({ delegate: createWasmBackend(), allowFallbackAdapter: true });
 * const q = { data: new Float32Array([1, 2, 3, 4]), rows: 2, cols: 2 };
 * console.log((await gpu.pairwise(q, q, "dot")).data); // Float32Array [5, 11, 11, 25]
 * console.log(gpu.fallbacks); // {} (nothing handed to the delegate yet)
 * gpu.dispose();
 * ```
 */
export class WebGpuBackend implements Backend {
  /** Name, details, and the adapter/device record. */
  readonly info: WebGpuBackendInfo;
  /** Number of calls handed to the delegate, by reason (for diagnostics and tests). */
  readonly fallbacks: Record<string, number> = {};
  /** Timing of the last GPU call when `kernelTiming` is on (undefined before the first one). */
  lastTiming?: WebGpuTiming;
  readonly #device: GPUDevice;
  readonly #delegate: Backend;
  readonly #pairwise = new Map<Metric, GPUComputePipeline>();
  readonly #s: Settings;
  #norms?: GPUComputePipeline;
  #partial?: GPUComputePipeline;
  #merge?: GPUComputePipeline;
  #batchHard?: GPUComputePipeline;
  #lost?: string;
  #disposed = false;
  /** Accumulates the current call's kernel time. */
  #kernelNs = 0;
  #passes = 0;
  #untimed = 0;

  /**
   * @param device the GPU device
   * @param probe what the probe found
   * @param delegate backend for the other operations
   * @param settings scratch size, tiling, top-k segment, timing (see {@link WebGpuBackendOptions})
   */
  constructor(
    device: GPUDevice,
    probe: WebGpuProbe,
    delegate: Backend,
    settings: Partial<Settings> = {},
  ) {
    this.#device = device;
    const tiling = settings.tiling ?? choosePairwiseTiling(device.limits);
    this.#s = {
      scratchFloats: Math.max(
        _tileCols(tiling) * _tileRows(tiling),
        Math.floor(settings.scratchFloats ?? SCRATCH_FLOATS),
      ),
      tiling,
      topkSegment: settings.topkSegment ?? TOPK_SEGMENT,
      kernelTiming: settings.kernelTiming ?? false,
      timestampQuery: settings.timestampQuery ?? device.features.has("timestamp-query"),
    };
    this.#delegate = delegate;
    const fb = probe.fallback ? " (software fallback adapter)" : "";
    const t = this.#s.tiling;
    const record = probe.adapter
      ? adapterRecord(probe.adapter)
      : { info: {}, limits: limitsRecord(device.limits), features: [...device.features].sort() };
    this.info = {
      name: "webgpu",
      detail: `WebGPU on ${probe.description}${fb}; pairwise (${_tileRows(t)}×${_tileCols(t)} tiles, ` +
        `${t.rowsPerThread}×${t.colsPerThread} per thread), top-k (k ≤ ${_GPU_MAX_K}) and batch-hard on the GPU, ` +
        `other operations on ${delegate.info.name}`,
      threads: 1,
      adapter: probe.description + fb,
      gpu: {
        ...record,
        deviceLimits: limitsRecord(device.limits),
        tiling: { ...t },
        timestampQuery: this.#s.timestampQuery,
      },
    };
    device.lost.then((info) => {
      if (!this.#disposed) this.#lost = info.message || String(info.reason);
    });
  }

  /** Compile every pipeline once (surfaces shader errors at creation). @internal */
  async _warm(): Promise<void> {
    this.#device.pushErrorScope("validation");
    for (const m of ["dot", "cosine", "l2", "sqeuclidean", "l1"] as const) this.#pipelineFor(m);
    this.#normsPipeline();
    this.#partialPipeline();
    this.#mergePipeline();
    this.#batchHardPipeline();
    const err = await this.#device.popErrorScope();
    if (err) throw new Error(err.message);
  }

  #pipeline(code: string, label: string): GPUComputePipeline {
    const module = this.#device.createShaderModule({ code, label });
    return this.#device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" }, label });
  }

  #pipelineFor(metric: Metric): GPUComputePipeline {
    let p = this.#pairwise.get(metric);
    if (!p) {
      p = this.#pipeline(_pairwiseWgsl(metric, this.#s.tiling), `pairwise_${metric}_f32`);
      this.#pairwise.set(metric, p);
    }
    return p;
  }

  #normsPipeline(): GPUComputePipeline {
    return this.#norms ??= this.#pipeline(_normsWgsl(), "row_sq_norms_f32");
  }

  #partialPipeline(): GPUComputePipeline {
    return this.#partial ??= this.#pipeline(_topkPartialWgsl(), "topk_partial_f32");
  }

  #mergePipeline(): GPUComputePipeline {
    return this.#merge ??= this.#pipeline(_topkMergeWgsl(), "topk_merge_f32");
  }

  #batchHardPipeline(): GPUComputePipeline {
    return this.#batchHard ??= this.#pipeline(_batchHardWgsl(), "batch_hard_f32");
  }

  #fallback(reason: string): Backend {
    this.fallbacks[reason] = (this.fallbacks[reason] ?? 0) + 1;
    return this.#delegate;
  }

  #usable(): boolean {
    if (this.#disposed) throw new LikenessError("UNSUPPORTED", "This webgpu backend was disposed; create a new one");
    return this.#lost === undefined;
  }

  get #maxBinding(): number {
    return Math.min(this.#device.limits.maxStorageBufferBindingSize, this.#device.limits.maxBufferSize);
  }

  #upload(data: ArrayBufferView, usage = STORAGE): GPUBuffer {
    const size = Math.max(16, Math.ceil(data.byteLength / 16) * 16);
    const buf = this.#device.createBuffer({ size, usage, mappedAtCreation: true });
    new Uint8Array(buf.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    buf.unmap();
    return buf;
  }

  /**
   * Upload rows `r0..r0+n` of a matrix as `vec4` rows (each row zero-padded to a multiple of 4 floats).
   */
  #uploadRows(m: Matrix, r0: number, n: number): GPUBuffer {
    const c = m.cols;
    const c4 = Math.ceil(c / 4) * 4;
    if (c4 === c) return this.#upload(m.data.subarray(r0 * c, (r0 + n) * c));
    const padded = new Float32Array(n * c4);
    for (let i = 0; i < n; i++) padded.set(m.data.subarray((r0 + i) * c, (r0 + i + 1) * c), i * c4);
    return this.#upload(padded);
  }

  #storage(bytes: number): GPUBuffer {
    return this.#device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 16) * 16), usage: STORAGE | COPY_SRC });
  }

  #params(values: number[]): GPUBuffer {
    const u = new Uint32Array(Math.max(4, Math.ceil(values.length / 4) * 4));
    u.set(values);
    return this.#upload(u, UNIFORM);
  }

  #bind(pipeline: GPUComputePipeline, buffers: GPUBuffer[]): GPUBindGroup {
    return this.#device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
  }

  /** One compute pass: pipeline, buffers, workgroup counts. */
  #dispatch(
    enc: GPUCommandEncoder,
    timer: PassTimer,
    pipe: GPUComputePipeline,
    buffers: GPUBuffer[],
    x: number,
    y = 1,
  ): void {
    const pass = timer.begin(enc, pipe.label);
    pass.setPipeline(pipe);
    pass.setBindGroup(0, this.#bind(pipe, buffers));
    pass.dispatchWorkgroups(x, y);
    pass.end();
  }

  /** Start a call's timing record. */
  #startTiming(): number {
    this.#kernelNs = 0;
    this.#passes = 0;
    this.#untimed = 0;
    return performance.now();
  }

  /** Finish a call's timing record. */
  #endTiming(op: string, t0: number): void {
    if (!this.#s.kernelTiming) return;
    const wallMs = performance.now() - t0;
    if (!this.#s.timestampQuery) {
      this.lastTiming = {
        op,
        wallMs,
        kernelMs: null,
        passes: this.#passes,
        source: "wall",
        note: "this device lacks timestamp-query: only wall time (upload, kernels and read-back together)",
      };
      return;
    }
    this.lastTiming = {
      op,
      wallMs,
      kernelMs: this.#kernelNs / 1e6,
      passes: this.#passes,
      source: "timestamp-query",
      ...(this.#untimed > 0 ? { note: `${this.#untimed} passes beyond the query-set size were not timed` } : {}),
    };
  }

  /**
   * Encode passes (inside a validation error scope), submit, then read back `bytes` from each
   * source buffer. Destroys `temps` afterwards. `passes` sizes the timestamp query set.
   */
  async #run(
    passes: number,
    encode: (enc: GPUCommandEncoder, timer: PassTimer) => void,
    sources: { buffer: GPUBuffer; bytes: number }[],
    temps: GPUBuffer[],
  ): Promise<ArrayBuffer[]> {
    const device = this.#device;
    device.pushErrorScope("validation");
    const timer = new PassTimer(device, passes, this.#s.kernelTiming && this.#s.timestampQuery);
    const enc = device.createCommandEncoder();
    const reads: { read: GPUBuffer; bytes: number }[] = [];
    let tsRead: GPUBuffer | undefined;
    let tsResolve: GPUBuffer | undefined;
    try {
      encode(enc, timer);
      for (const { buffer, bytes } of sources) {
        const size = Math.max(16, Math.ceil(bytes / 16) * 16);
        const read = device.createBuffer({ size, usage: MAP_READ | COPY_DST });
        enc.copyBufferToBuffer(buffer, 0, read, 0, size);
        reads.push({ read, bytes });
      }
      if (timer.querySet && timer.used > 0) {
        tsResolve = device.createBuffer({ size: timer.used * 8, usage: QUERY_RESOLVE | COPY_SRC });
        tsRead = device.createBuffer({ size: timer.used * 8, usage: MAP_READ | COPY_DST });
        enc.resolveQuerySet(timer.querySet, 0, timer.used, tsResolve, 0);
        enc.copyBufferToBuffer(tsResolve, 0, tsRead, 0, timer.used * 8);
      }
      device.queue.submit([enc.finish()]);
    } finally {
      const err = await device.popErrorScope();
      if (err) {
        for (const { read } of reads) read.destroy();
        for (const t of temps) t.destroy();
        tsRead?.destroy();
        tsResolve?.destroy();
        timer.querySet?.destroy();
        // deno-lint-ignore no-unsafe-finally
        throw new LikenessError("UNSUPPORTED", `WebGPU validation error: ${err.message}`);
      }
    }
    try {
      const out: ArrayBuffer[] = [];
      for (const { read, bytes } of reads) {
        await read.mapAsync(MAP_MODE_READ);
        out.push(read.getMappedRange(0, read.size).slice(0, bytes));
        read.unmap();
      }
      this.#passes += timer.count;
      this.#untimed += timer.skipped;
      if (tsRead) {
        await tsRead.mapAsync(MAP_MODE_READ);
        const ts = new BigUint64Array(tsRead.getMappedRange().slice(0));
        tsRead.unmap();
        for (let i = 0; i + 1 < ts.length; i += 2) if (ts[i + 1] > ts[i]) this.#kernelNs += Number(ts[i + 1] - ts[i]);
      }
      return out;
    } finally {
      for (const { read } of reads) read.destroy();
      for (const t of temps) t.destroy();
      tsRead?.destroy();
      tsResolve?.destroy();
      timer.querySet?.destroy();
    }
  }

  /** Squared norms of a vec4-row buffer, encoded as one pass. */
  #encodeNorms(enc: GPUCommandEncoder, timer: PassTimer, rows: GPUBuffer, n: number, cols4: number): GPUBuffer[] {
    const out = this.#storage(n * 4);
    const params = this.#params([n, cols4]);
    const groups = Math.ceil(n / _NORM_THREADS);
    const x = Math.min(groups, MAX_GROUPS);
    this.#dispatch(enc, timer, this.#normsPipeline(), [rows, out, params], x, Math.ceil(groups / x));
    return [out, params];
  }

  /**
   * Q×R matrix of `metric(query_i, reference_j)`, computed by the tiled shader in chunks of query rows.
   *
   * @param query Q×D
   * @param reference R×D
   * @param metric one of the five metrics
   * @returns Q×R float32 matrix
   * @throws {ShapeError} SHAPE_MISMATCH or EMPTY_INPUT; {ValueError} NON_FINITE or UNKNOWN_NAME
   */
  async pairwise(query: Matrix, reference: Matrix, metric: Metric): Promise<Matrix> {
    const m = _checkPairwise(query, reference, metric);
    if (!this.#usable()) return this.#fallback("device lost").pairwise(query, reference, m);
    const R = reference.rows;
    const cols4 = Math.ceil(query.cols / 4);
    const maxB = this.#maxBinding;
    const TM = _tileRows(this.#s.tiling);
    const TN = _tileCols(this.#s.tiling);
    if (R * cols4 * 16 > maxB || R * 4 > maxB) {
      return this.#fallback("buffer over binding limit").pairwise(query, reference, m);
    }
    if (Math.ceil(R / TN) > MAX_GROUPS) return this.#fallback("too many references").pairwise(query, reference, m);
    const t0 = this.#startTiming();
    const out = new Float32Array(query.rows * R);
    const rBuf = this.#uploadRows(reference, 0, R);
    const cos = m === "cosine";
    try {
      const chunkFloats = Math.min(maxB / 4, this.#s.scratchFloats);
      const chunkRows = Math.max(
        1,
        Math.min(query.rows, Math.floor(chunkFloats / R), Math.floor(maxB / (cols4 * 16)), MAX_GROUPS * TM),
      );
      const pipe = this.#pipelineFor(m);
      for (let q0 = 0; q0 < query.rows; q0 += chunkRows) {
        const qn = Math.min(chunkRows, query.rows - q0);
        const qBuf = this.#uploadRows(query, q0, qn);
        const outBuf = this.#storage(qn * R * 4);
        const params = this.#params([qn, R, cols4, 0, 0]);
        const temps = [qBuf, outBuf, params];
        const [bytes] = await this.#run(
          cos ? 3 : 1,
          (enc, timer) => {
            const extra: GPUBuffer[] = [];
            if (cos) {
              const [qn2, p1] = this.#encodeNorms(enc, timer, qBuf, qn, cols4);
              const [rn2, p2] = this.#encodeNorms(enc, timer, rBuf, R, cols4);
              extra.push(qn2, rn2);
              temps.push(qn2, p1, rn2, p2);
            }
            this.#dispatch(
              enc,
              timer,
              pipe,
              [qBuf, rBuf, outBuf, params, ...extra],
              Math.ceil(R / TN),
              Math.ceil(qn / TM),
            );
          },
          [{ buffer: outBuf, bytes: qn * R * 4 }],
          temps,
        );
        out.set(new Float32Array(bytes), q0 * R);
      }
    } finally {
      rBuf.destroy();
    }
    this.#endTiming("pairwise", t0);
    return { data: out, rows: query.rows, cols: R };
  }

  /**
   * L2 norm of each row (delegated).
   *
   * @param m matrix
   * @returns norms
   */
  norms(m: Matrix): Promise<Float32Array> {
    return this.#delegate.norms(m);
  }

  /**
   * Rows scaled to unit L2 norm (delegated).
   *
   * @param m matrix
   * @returns normalised copy
   */
  normalize(m: Matrix): Promise<Matrix> {
    return this.#delegate.normalize(m);
  }

  /**
   * Exact top-k per query, k ≤ 256. References are uploaded in pages that fit the binding limit;
   * for each block of references the pairwise shader fills a scratch block, pass 1 reduces each
   * segment of every query's row to its best k in one workgroup, and pass 2 merges those partial
   * lists with the running `Q×k` list, all on the GPU. k > 256 is delegated.
   *
   * @param query Q×D
   * @param reference R×D
   * @param options k, metric, largest, label filter
   * @returns indices and values, best first, ties to the lower index
   * @throws {ShapeError} K_TOO_LARGE, SHAPE_MISMATCH, LABEL_MISMATCH; {ValueError} INVALID_ARGUMENT
   */
  async topk(query: Matrix, reference: Matrix, options: TopKOptions): Promise<TopKResult> {
    const { k, metric, largest, eligible } = _checkTopK(query, reference, options);
    if (!this.#usable()) return this.#fallback("device lost").topk(query, reference, options);
    if (k > _GPU_MAX_K) return this.#fallback(`k > ${_GPU_MAX_K}`).topk(query, reference, options);
    const Q = query.rows;
    const R = reference.rows;
    const cols4 = Math.ceil(query.cols / 4);
    const maxB = this.#maxBinding;
    const rowBytes = cols4 * 16;
    if (rowBytes > maxB || R * 4 > maxB) {
      return this.#fallback("buffer over binding limit").topk(query, reference, options);
    }
    const TM = _tileRows(this.#s.tiling);
    const TN = _tileCols(this.#s.tiling);
    const k2 = 1 << Math.ceil(Math.log2(k));
    const scratchFloats = Math.min(this.#s.scratchFloats, Math.floor(maxB / 4));
    const qChunk = Math.max(1, Math.min(Q, QUERY_CHUNK, Math.floor(maxB / rowBytes), Math.floor(scratchFloats / TN)));
    const pageRows = Math.floor(maxB / rowBytes);
    const rBlock = Math.max(
      1,
      Math.min(R, pageRows, MAX_GROUPS * TN, Math.max(TN, Math.floor(scratchFloats / qChunk / TN) * TN)),
    );
    const seg = this.#s.topkSegment;
    const cos = metric === "cosine";
    const t0 = this.#startTiming();
    const indices = new Int32Array(Q * k);
    const values = new Float32Array(Q * k);
    // Pages of whole blocks, each within the binding limit.
    const pageLen = Math.max(rBlock, Math.floor(pageRows / rBlock) * rBlock);
    const pages: { r0: number; n: number; buf: GPUBuffer; norms?: GPUBuffer }[] = [];
    const keep: GPUBuffer[] = [];
    const maskBuf = this.#upload(eligible ? Uint32Array.from(eligible) : new Uint32Array(4));
    keep.push(maskBuf);
    try {
      for (let r0 = 0; r0 < R; r0 += pageLen) {
        const n = Math.min(pageLen, R - r0);
        const buf = this.#uploadRows(reference, r0, n);
        keep.push(buf);
        pages.push({ r0, n, buf });
      }
      if (cos) {
        const temps: GPUBuffer[] = [];
        await this.#run(
          pages.length,
          (enc, timer) => {
            for (const page of pages) {
              const [nb, pb] = this.#encodeNorms(enc, timer, page.buf, page.n, cols4);
              page.norms = nb;
              keep.push(nb);
              temps.push(pb);
            }
          },
          [],
          temps,
        );
      }
      const scratch = this.#storage(qChunk * rBlock * 4);
      keep.push(scratch);
      const maxSeg = Math.ceil(rBlock / seg);
      const partV = this.#storage(qChunk * maxSeg * k * 4);
      const partI = this.#storage(qChunk * maxSeg * k * 4);
      keep.push(partV, partI);
      const pairPipe = this.#pipelineFor(metric);
      const partPipe = this.#partialPipeline();
      const mergePipe = this.#mergePipeline();
      const blocks = pages.reduce((s, p) => s + Math.ceil(p.n / rBlock), 0);
      for (let q0 = 0; q0 < Q; q0 += qChunk) {
        const qn = Math.min(qChunk, Q - q0);
        const qBuf = this.#uploadRows(query, q0, qn);
        const lists = [
          [this.#storage(qn * k * 4), this.#storage(qn * k * 4)],
          [this.#storage(qn * k * 4), this.#storage(qn * k * 4)],
        ];
        const temps: GPUBuffer[] = [qBuf, ...lists[0], ...lists[1]];
        let cur = 0;
        const last = blocks % 2; // the list the final merge writes
        const [vals, idx] = await this.#run(
          blocks * 3 + 1,
          (enc, timer) => {
            let qNorms: GPUBuffer | undefined;
            if (cos) {
              const [nb, pb] = this.#encodeNorms(enc, timer, qBuf, qn, cols4);
              qNorms = nb;
              temps.push(nb, pb);
            }
            let first = true;
            for (const page of pages) {
              for (let b0 = 0; b0 < page.n; b0 += rBlock) {
                const rn = Math.min(rBlock, page.n - b0);
                const nSeg = Math.ceil(rn / seg);
                const pp = this.#params([qn, rn, cols4, 0, b0]);
                const sp = this.#params([qn, rn, k, k2, page.r0 + b0, largest ? 1 : 0, eligible ? 1 : 0, seg, nSeg]);
                const mp = this.#params([qn, k, k2, nSeg, first ? 0 : 1]);
                temps.push(pp, sp, mp);
                const pairBufs = [qBuf, page.buf, scratch, pp];
                if (cos) pairBufs.push(qNorms!, page.norms!);
                this.#dispatch(enc, timer, pairPipe, pairBufs, Math.ceil(rn / TN), Math.ceil(qn / TM));
                this.#dispatch(enc, timer, partPipe, [scratch, maskBuf, partV, partI, sp], nSeg, qn);
                const [pv, pi] = lists[cur];
                const [ov, oi] = lists[1 - cur];
                this.#dispatch(enc, timer, mergePipe, [partV, partI, pv, pi, ov, oi, mp], qn);
                cur = 1 - cur;
                first = false;
              }
            }
          },
          [{ buffer: lists[last][0], bytes: qn * k * 4 }, { buffer: lists[last][1], bytes: qn * k * 4 }],
          temps,
        );
        const v = new Float32Array(vals);
        if (largest) { for (let i = 0; i < v.length; i++) v[i] = -v[i]; }
        values.set(v, q0 * k);
        indices.set(new Int32Array(idx), q0 * k);
      }
    } finally {
      for (const b of keep) b.destroy();
    }
    for (let i = 0; i < indices.length; i++) if (indices[i] < 0) values[i] = NaN;
    this.#endTiming("topk", t0);
    return { indices, values, rows: Q, k };
  }

  /**
   * Hardest positive and negative per anchor, one GPU workgroup per anchor.
   *
   * @param dist B×B distances (or similarities with `smallerIsCloser: false`)
   * @param same B×B positive mask
   * @param options `smallerIsCloser` (default true)
   * @returns indices, distances and validity flags
   * @throws {ShapeError} SHAPE_MISMATCH, LABEL_MISMATCH; {ValueError} NON_FINITE
   */
  async batchHard(dist: Matrix, same: Uint8Array, options?: MiningOptions): Promise<BatchHardResult> {
    const smaller = _checkBatchHard(dist, same, options);
    const B = dist.rows;
    if (!this.#usable()) return this.#fallback("device lost").batchHard(dist, same, options);
    if (dist.data.byteLength > this.#maxBinding || B * B > 0xffffffff) {
      return this.#fallback("buffer over binding limit").batchHard(dist, same, options);
    }
    const t0 = this.#startTiming();
    const dBuf = this.#upload(dist.data);
    const sBuf = this.#upload(same);
    const idxBuf = this.#storage(2 * B * 4);
    const valBuf = this.#storage(2 * B * 4);
    const params = this.#params([B, smaller ? 1 : 0]);
    const pipe = this.#batchHardPipeline();
    const x = Math.min(B, MAX_GROUPS);
    const [ib, vb] = await this.#run(
      1,
      (enc, timer) => {
        this.#dispatch(enc, timer, pipe, [dBuf, sBuf, idxBuf, valBuf, params], x, Math.ceil(B / MAX_GROUPS));
      },
      [{ buffer: idxBuf, bytes: 2 * B * 4 }, { buffer: valBuf, bytes: 2 * B * 4 }],
      [
        dBuf,
        sBuf,
        idxBuf,
        valBuf,
        params,
      ],
    );
    const idx = new Int32Array(ib);
    const val = new Float32Array(vb);
    const positive = idx.slice(0, B);
    const negative = idx.slice(B);
    const positiveDistance = val.slice(0, B);
    const negativeDistance = val.slice(B);
    const validPositive = new Uint8Array(B);
    const validNegative = new Uint8Array(B);
    for (let i = 0; i < B; i++) {
      if (positive[i] >= 0) validPositive[i] = 1;
      else positiveDistance[i] = NaN;
      if (negative[i] >= 0) validNegative[i] = 1;
      else negativeDistance[i] = NaN;
    }
    this.#endTiming("batchHard", t0);
    return { positive, negative, positiveDistance, negativeDistance, validPositive, validNegative };
  }

  /**
   * Triplet enumeration (delegated).
   *
   * @param dist B×B distances
   * @param same B×B positive mask
   * @param options margin and type
   * @returns triplets
   */
  tripletMargin(
    dist: Matrix,
    same: Uint8Array,
    options: MiningOptions & { margin: number; type: TripletType },
  ): Promise<Triplets> {
    return this.#delegate.tripletMargin(dist, same, options);
  }

  /**
   * Pair-margin mining (delegated).
   *
   * @param dist B×B distances
   * @param same B×B positive mask
   * @param options margins
   * @returns pairs
   */
  pairMargin(
    dist: Matrix,
    same: Uint8Array,
    options: MiningOptions & { posMargin: number; negMargin: number },
  ): Promise<Pairs> {
    return this.#delegate.pairMargin(dist, same, options);
  }

  /**
   * Multi-similarity mining (delegated).
   *
   * @param dist B×B similarities or distances
   * @param same B×B positive mask
   * @param options epsilon
   * @returns pairs
   */
  multiSimilarity(dist: Matrix, same: Uint8Array, options: MiningOptions & { epsilon: number }): Promise<Pairs> {
    return this.#delegate.multiSimilarity(dist, same, options);
  }

  /**
   * Retrieval metrics (delegated).
   *
   * @param relevant rows × k relevance flags
   * @param relevantCount relevant references per query
   * @param k k
   * @returns averaged metrics
   */
  retrievalMetrics(relevant: Uint8Array, relevantCount: Int32Array, k: number): Promise<RetrievalMetrics> {
    return this.#delegate.retrievalMetrics(relevant, relevantCount, k);
  }

  /** Destroy the GPU device and dispose the delegate. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#pairwise.clear();
    try {
      this.#device.destroy();
    } catch {
      // already gone
    }
    this.#delegate.dispose();
  }
}
