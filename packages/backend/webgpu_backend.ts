/**
 * The `webgpu` backend: WGSL compute shaders for pairwise (all five metrics, tiled), exact
 * top-k (k ≤ 64, streamed over reference blocks) and batch-hard mining. Every other operation,
 * and anything a shader cannot take (k > 64, a buffer over the device's binding limit), goes to a
 * delegate backend (normally `wasm-simd`); {@link WebGpuBackend.fallbacks} counts those hand-offs.
 *
 * @module
 */
import { LikenessError, type Matrix } from "@likeness/core";
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
  _BATCH_HARD_THREADS,
  _batchHardWgsl,
  _GPU_MAX_K,
  _PAIRWISE_TILE,
  _pairwiseWgsl,
  _topkWgsl,
} from "./webgpu_shaders.ts";
import { probeWebGpu, type WebGpuProbe } from "./webgpu_probe.ts";

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
}

/** Default largest number of values the top-k scratch block holds (Q-chunk × reference-block). */
const SCRATCH_FLOATS = 1 << 24;
/** Largest query chunk per top-k pass (workgroups per dispatch dimension are limited to 65535). */
const QUERY_CHUNK = 16384;
/** Dispatch limit per dimension. */
const MAX_GROUPS = 65535;

const STORAGE = 0x80;
const COPY_SRC = 0x04;
const COPY_DST = 0x08;
const MAP_READ = 0x01;
const UNIFORM = 0x40;
const MAP_MODE_READ = 0x01;

/**
 * Create the WebGPU backend. Requests a device with the adapter's largest storage-buffer limits.
 *
 * @param options delegate backend, `allowFallbackAdapter`, optional pre-probed adapter
 * @returns the backend
 * @throws {LikenessError} UNSUPPORTED when there is no adapter, when the adapter is a software
 *   fallback and `allowFallbackAdapter` is not set, or when the device or a shader fails to start
 * @example
 * ```ts
 * import { createJsBackend, createWebGpuBackend } from "@likeness/backend";
 * const gpu = await createWebGpuBackend({ delegate: createJsBackend(), allowFallbackAdapter: true });
 * console.log(gpu.info.detail);
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
  const adapter = probe.adapter;
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      requiredLimits: {
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
        maxBufferSize: adapter.limits.maxBufferSize,
      },
    });
  } catch (cause) {
    throw new LikenessError("UNSUPPORTED", `WebGPU device request failed: ${(cause as Error).message}`, { cause });
  }
  const backend = new WebGpuBackend(device, probe, options.delegate, options.scratchFloats ?? SCRATCH_FLOATS);
  try {
    await backend._warm();
  } catch (cause) {
    backend.dispose();
    throw new LikenessError("UNSUPPORTED", `WebGPU shaders failed to compile: ${(cause as Error).message}`, { cause });
  }
  return backend;
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
  /** Name and details. */
  readonly info: BackendInfo;
  /** Number of calls handed to the delegate, by reason (for diagnostics and tests). */
  readonly fallbacks: Record<string, number> = {};
  readonly #device: GPUDevice;
  readonly #delegate: Backend;
  readonly #pairwise = new Map<Metric, GPUComputePipeline>();
  #topk?: GPUComputePipeline;
  #batchHard?: GPUComputePipeline;
  #lost?: string;
  #disposed = false;
  readonly #scratchFloats: number;

  /**
   * @param device the GPU device
   * @param probe what the probe found
   * @param delegate backend for the other operations
   * @param scratchFloats values in the top-k scratch block
   */
  constructor(device: GPUDevice, probe: WebGpuProbe, delegate: Backend, scratchFloats = SCRATCH_FLOATS) {
    this.#device = device;
    this.#scratchFloats = Math.max(_PAIRWISE_TILE, Math.floor(scratchFloats));
    this.#delegate = delegate;
    const fb = probe.fallback ? " (software fallback adapter)" : "";
    this.info = {
      name: "webgpu",
      detail: `WebGPU on ${probe.description}${fb}; pairwise, top-k (k ≤ ${_GPU_MAX_K}) and batch-hard on the GPU, ` +
        `other operations on ${delegate.info.name}`,
      threads: 1,
      adapter: probe.description + fb,
    };
    device.lost.then((info) => {
      if (!this.#disposed) this.#lost = info.message || String(info.reason);
    });
  }

  /** Compile every pipeline once (surfaces shader errors at creation). @internal */
  async _warm(): Promise<void> {
    this.#device.pushErrorScope("validation");
    for (const m of ["dot", "cosine", "l2", "sqeuclidean", "l1"] as const) this.#pipelineFor(m);
    this.#topkPipeline();
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
      p = this.#pipeline(_pairwiseWgsl(metric), `pairwise_${metric}_f32`);
      this.#pairwise.set(metric, p);
    }
    return p;
  }

  #topkPipeline(): GPUComputePipeline {
    return this.#topk ??= this.#pipeline(_topkWgsl(), "topk_select_f32");
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
    const size = Math.max(16, Math.ceil(data.byteLength / 4) * 4);
    const buf = this.#device.createBuffer({ size, usage, mappedAtCreation: true });
    new Uint8Array(buf.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    buf.unmap();
    return buf;
  }

  #storage(bytes: number): GPUBuffer {
    return this.#device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 4) * 4), usage: STORAGE | COPY_SRC });
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

  /** A command encoder inside a validation error scope that {@link #submitAndRead} pops. */
  #encoder(): GPUCommandEncoder {
    this.#device.pushErrorScope("validation");
    return this.#device.createCommandEncoder();
  }

  /** Submit, then read back `bytes` from each source buffer. Destroys `temps` afterwards. */
  async #submitAndRead(
    encoder: GPUCommandEncoder,
    sources: { buffer: GPUBuffer; bytes: number }[],
    temps: GPUBuffer[],
  ): Promise<ArrayBuffer[]> {
    const reads = sources.map(({ buffer, bytes }) => {
      const size = Math.max(16, Math.ceil(bytes / 4) * 4);
      const read = this.#device.createBuffer({ size, usage: MAP_READ | COPY_DST });
      encoder.copyBufferToBuffer(buffer, 0, read, 0, size);
      return { read, bytes };
    });
    this.#device.queue.submit([encoder.finish()]);
    const err = await this.#device.popErrorScope();
    try {
      if (err) throw new LikenessError("UNSUPPORTED", `WebGPU validation error: ${err.message}`);
      const out: ArrayBuffer[] = [];
      for (const { read, bytes } of reads) {
        await read.mapAsync(MAP_MODE_READ);
        out.push(read.getMappedRange(0, read.size).slice(0, bytes));
        read.unmap();
      }
      return out;
    } finally {
      for (const { read } of reads) read.destroy();
      for (const t of temps) t.destroy();
    }
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
    const maxB = this.#maxBinding;
    if (query.data.byteLength > maxB || reference.data.byteLength > maxB || R * 4 > maxB) {
      return this.#fallback("buffer over binding limit").pairwise(query, reference, m);
    }
    if (Math.ceil(R / _PAIRWISE_TILE) > MAX_GROUPS) {
      return this.#fallback("too many references").pairwise(query, reference, m);
    }
    const out = new Float32Array(query.rows * R);
    const qBuf = this.#upload(query.data);
    const rBuf = this.#upload(reference.data);
    try {
      const chunkFloats = Math.min(maxB / 4, this.#scratchFloats);
      const chunkRows = Math.max(1, Math.min(query.rows, Math.floor(chunkFloats / R), MAX_GROUPS * _PAIRWISE_TILE));
      const pipe = this.#pipelineFor(m);
      for (let q0 = 0; q0 < query.rows; q0 += chunkRows) {
        const qn = Math.min(chunkRows, query.rows - q0);
        const outBuf = this.#storage(qn * R * 4);
        const params = this.#params([qn, R, query.cols, q0, 0]);
        const enc = this.#encoder();
        const pass = enc.beginComputePass();
        pass.setPipeline(pipe);
        pass.setBindGroup(0, this.#bind(pipe, [qBuf, rBuf, outBuf, params]));
        pass.dispatchWorkgroups(Math.ceil(R / _PAIRWISE_TILE), Math.ceil(qn / _PAIRWISE_TILE));
        pass.end();
        const [bytes] = await this.#submitAndRead(enc, [{ buffer: outBuf, bytes: qn * R * 4 }], [outBuf, params]);
        out.set(new Float32Array(bytes), q0 * R);
      }
    } finally {
      qBuf.destroy();
      rBuf.destroy();
    }
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
   * Exact top-k per query: for each block of references the pairwise shader fills a scratch
   * block and the selection shader merges it into the running `Q×k` list on the GPU. k > 64 is
   * delegated (each GPU thread keeps a private list of at most 64 entries).
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
    const maxB = this.#maxBinding;
    if (query.data.byteLength > maxB || reference.data.byteLength > maxB) {
      return this.#fallback("buffer over binding limit").topk(query, reference, options);
    }
    const qChunk = Math.min(Q, QUERY_CHUNK, Math.max(1, Math.floor(this.#scratchFloats / _PAIRWISE_TILE)));
    const rBlock = Math.min(
      R,
      MAX_GROUPS * _PAIRWISE_TILE,
      Math.max(
        _PAIRWISE_TILE,
        Math.floor(Math.min(this.#scratchFloats, maxB / 4) / qChunk / _PAIRWISE_TILE) * _PAIRWISE_TILE,
      ),
    );
    const indices = new Int32Array(Q * k);
    const values = new Float32Array(Q * k);
    const qBuf = this.#upload(query.data);
    const rBuf = this.#upload(reference.data);
    const maskBuf = this.#upload(eligible ? Uint32Array.from(eligible) : new Uint32Array(4));
    const scratch = this.#storage(qChunk * rBlock * 4);
    const pairPipe = this.#pipelineFor(metric);
    const selPipe = this.#topkPipeline();
    try {
      for (let q0 = 0; q0 < Q; q0 += qChunk) {
        const qn = Math.min(qChunk, Q - q0);
        const lists = [
          [this.#storage(qn * k * 4), this.#storage(qn * k * 4)],
          [this.#storage(qn * k * 4), this.#storage(qn * k * 4)],
        ];
        const temps: GPUBuffer[] = [...lists[0], ...lists[1]];
        const enc = this.#encoder();
        let cur = 0;
        for (let r0 = 0, block = 0; r0 < R; r0 += rBlock, block++) {
          const rn = Math.min(rBlock, R - r0);
          const pp = this.#params([qn, rn, query.cols, q0, r0]);
          const sp = this.#params([qn, rn, k, r0, largest ? 1 : 0, block > 0 ? 1 : 0, eligible ? 1 : 0]);
          temps.push(pp, sp);
          const pass = enc.beginComputePass();
          pass.setPipeline(pairPipe);
          pass.setBindGroup(0, this.#bind(pairPipe, [qBuf, rBuf, scratch, pp]));
          pass.dispatchWorkgroups(Math.ceil(rn / _PAIRWISE_TILE), Math.ceil(qn / _PAIRWISE_TILE));
          pass.end();
          const sel = enc.beginComputePass();
          sel.setPipeline(selPipe);
          const [pv, pi] = lists[cur];
          const [ov, oi] = lists[1 - cur];
          sel.setBindGroup(0, this.#bind(selPipe, [scratch, pv, pi, ov, oi, maskBuf, sp]));
          sel.dispatchWorkgroups(qn);
          sel.end();
          cur = 1 - cur;
        }
        const [vb, ib] = await this.#submitAndRead(
          enc,
          [{ buffer: lists[cur][0], bytes: qn * k * 4 }, { buffer: lists[cur][1], bytes: qn * k * 4 }],
          temps,
        );
        values.set(new Float32Array(vb), q0 * k);
        indices.set(new Int32Array(ib), q0 * k);
      }
    } finally {
      for (const b of [qBuf, rBuf, maskBuf, scratch]) b.destroy();
    }
    for (let i = 0; i < indices.length; i++) if (indices[i] < 0) values[i] = NaN;
    return { indices, values, rows: Q, k };
  }

  /**
   * Hardest positive and negative per anchor, one GPU thread per anchor.
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
    if (dist.data.byteLength > this.#maxBinding || Math.ceil(B / _BATCH_HARD_THREADS) > MAX_GROUPS) {
      return this.#fallback("buffer over binding limit").batchHard(dist, same, options);
    }
    const dBuf = this.#upload(dist.data);
    const sBuf = this.#upload(same);
    const idxBuf = this.#storage(2 * B * 4);
    const valBuf = this.#storage(2 * B * 4);
    const params = this.#params([B, smaller ? 1 : 0]);
    const pipe = this.#batchHardPipeline();
    const enc = this.#encoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipe);
    pass.setBindGroup(0, this.#bind(pipe, [dBuf, sBuf, idxBuf, valBuf, params]));
    pass.dispatchWorkgroups(Math.ceil(B / _BATCH_HARD_THREADS));
    pass.end();
    const [ib, vb] = await this.#submitAndRead(
      enc,
      [{ buffer: idxBuf, bytes: 2 * B * 4 }, { buffer: valBuf, bytes: 2 * B * 4 }],
      [dBuf, sBuf, idxBuf, valBuf, params],
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
