/**
 * WGSL compute shaders of the `webgpu` backend, and the choice of their tiling from the adapter's
 * limits: a tiled pairwise kernel for every metric (workgroup-memory tiles, `vec4` loads), a
 * row-norm kernel (for cosine), a two-pass top-k selection (per-workgroup partial top-k over
 * segments of a distance block, then a per-query merge with the running list) and batch-hard
 * mining (one workgroup per anchor).
 *
 * Memory contract (all row-major, f32 unless noted):
 * - pairwise: `q` (query rows × `cols4` vec4, rows zero-padded to a multiple of 4 floats), `r`
 *   (reference rows × `cols4` vec4), `outv` (qRows × rRows of the chunk). Rows `qOff..qOff+qRows`
 *   of `q` against rows `rOff..rOff+rRows` of `r`. Cosine also reads `qn`/`rn`, the squared row
 *   norms (indexed like the rows).
 * - top-k: keys are the values (negated when `largest`), so smaller is always better; an index −1
 *   is an empty slot, worse than anything. Partial lists are `qRows × nSeg × k`, the running list
 *   `qRows × k` (i32 indices), `mask` one u32 per reference (1 = eligible).
 * - batch-hard: `dist` (B × B), `same` (B × B bytes packed four per u32, little-endian),
 *   `outIdx` (2B: positives then negatives, −1 = none), `outVal` (2B).
 *
 * @module
 */
import type { Metric } from "./types.ts";

/**
 * Shape of the pairwise kernel's work: a workgroup of `wgX × wgY` threads computes an output
 * tile of `(wgY·rowsPerThread) × (wgX·colsPerThread)`, staging `tileK` columns of both inputs
 * through workgroup memory per step.
 */
export interface PairwiseTiling {
  /** Threads along the reference (column) axis. */
  wgX: number;
  /** Threads along the query (row) axis. */
  wgY: number;
  /** Output rows per thread: 4 or 8. */
  rowsPerThread: number;
  /** Output columns per thread: 4 or 8. */
  colsPerThread: number;
  /** Input columns staged per step: a multiple of 4. */
  tileK: number;
}

/** The adapter limits the tiling choice reads (names as in `GPUSupportedLimits`). */
export interface TilingLimits {
  /** Largest workgroup size along x. */
  maxComputeWorkgroupSizeX: number;
  /** Largest workgroup size along y. */
  maxComputeWorkgroupSizeY: number;
  /** Largest number of threads in one workgroup. */
  maxComputeInvocationsPerWorkgroup: number;
  /** Bytes of workgroup memory one workgroup may use. */
  maxComputeWorkgroupStorageSize: number;
}

/**
 * Candidate tilings, best first for a large GPU: 128×128 tiles with 8×8 per thread (64
 * accumulators, the classic SGEMM shape), then smaller tiles for adapters with tighter limits.
 * The spec's minimum limits (256 threads, 16 KiB) always admit the 64×64 entry.
 */
export const PAIRWISE_TILINGS: readonly PairwiseTiling[] = [
  { wgX: 16, wgY: 16, rowsPerThread: 8, colsPerThread: 8, tileK: 16 },
  { wgX: 16, wgY: 16, rowsPerThread: 8, colsPerThread: 4, tileK: 32 },
  { wgX: 16, wgY: 16, rowsPerThread: 8, colsPerThread: 4, tileK: 16 },
  { wgX: 16, wgY: 16, rowsPerThread: 4, colsPerThread: 4, tileK: 16 },
  { wgX: 8, wgY: 8, rowsPerThread: 4, colsPerThread: 4, tileK: 16 },
  { wgX: 8, wgY: 8, rowsPerThread: 4, colsPerThread: 4, tileK: 4 },
];

/** Output rows of one workgroup's tile. */
export function _tileRows(t: PairwiseTiling): number {
  return t.wgY * t.rowsPerThread;
}

/** Output columns of one workgroup's tile. */
export function _tileCols(t: PairwiseTiling): number {
  return t.wgX * t.colsPerThread;
}

/** Bytes of workgroup memory the pairwise kernel uses with tiling `t`. */
export function _tilingBytes(t: PairwiseTiling): number {
  return t.tileK * (_tileRows(t) + _tileCols(t)) * 4;
}

/**
 * Why a tiling does not fit (or is malformed), or undefined when it fits the limits.
 *
 * @param t the tiling
 * @param limits the adapter's (or device's) limits
 * @returns the reason, or undefined
 */
export function _tilingProblem(t: PairwiseTiling, limits: TilingLimits): string | undefined {
  const ints = [t.wgX, t.wgY, t.rowsPerThread, t.colsPerThread, t.tileK];
  if (!ints.every((v) => Number.isInteger(v) && v > 0)) return "every field must be a positive integer";
  if (t.rowsPerThread !== 4 && t.rowsPerThread !== 8) return "rowsPerThread must be 4 or 8";
  if (t.colsPerThread !== 4 && t.colsPerThread !== 8) return "colsPerThread must be 4 or 8";
  if (t.tileK % 4 !== 0) return "tileK must be a multiple of 4";
  if (t.wgX > limits.maxComputeWorkgroupSizeX) return `wgX ${t.wgX} > maxComputeWorkgroupSizeX`;
  if (t.wgY > limits.maxComputeWorkgroupSizeY) return `wgY ${t.wgY} > maxComputeWorkgroupSizeY`;
  if (t.wgX * t.wgY > limits.maxComputeInvocationsPerWorkgroup) {
    return `${t.wgX * t.wgY} threads > maxComputeInvocationsPerWorkgroup`;
  }
  if (_tilingBytes(t) > limits.maxComputeWorkgroupStorageSize) {
    return `${_tilingBytes(t)} bytes of workgroup memory > maxComputeWorkgroupStorageSize`;
  }
  return undefined;
}

/**
 * The first of {@link PAIRWISE_TILINGS} that fits the limits.
 *
 * @param limits the adapter's limits
 * @returns the tiling
 * @example
 * ```ts
 * import { choosePairwiseTiling } from "@likeness/backend";
 * const t = choosePairwiseTiling({
 *   maxComputeWorkgroupSizeX: 256,
 *   maxComputeWorkgroupSizeY: 256,
 *   maxComputeInvocationsPerWorkgroup: 256,
 *   maxComputeWorkgroupStorageSize: 16384,
 * });
 * console.log(t); // { wgX: 16, wgY: 16, rowsPerThread: 8, colsPerThread: 8, tileK: 16 }
 * ```
 */
export function choosePairwiseTiling(limits: TilingLimits): PairwiseTiling {
  for (const t of PAIRWISE_TILINGS) if (!_tilingProblem(t, limits)) return { ...t };
  return { ...PAIRWISE_TILINGS[PAIRWISE_TILINGS.length - 1] };
}

/** Largest k the GPU top-k supports (the per-workgroup best list holds this many entries). */
export const _GPU_MAX_K = 256;

/** Threads per workgroup of the top-k kernels (one compare-exchange each per bitonic stage). */
export const _TOPK_THREADS = 256;

/** Threads per workgroup of the batch-hard kernel (one workgroup per anchor). */
export const _BATCH_HARD_THREADS = 256;

/** Threads per workgroup of the row-norm kernel. */
export const _NORM_THREADS = 64;

const L = ["x", "y", "z", "w"];

/** Per-(row, column-vector) accumulation statement. */
function accumulate(metric: Metric, acc: string, a: string, b: string): string {
  switch (metric) {
    case "dot":
    case "cosine":
      return `${acc} = fma(vec4<f32>(${a}), ${b}, ${acc});`;
    case "l2":
    case "sqeuclidean":
      return `{ let d = vec4<f32>(${a}) - ${b}; ${acc} = fma(d, d, ${acc}); }`;
    case "l1":
      return `${acc} = ${acc} + abs(vec4<f32>(${a}) - ${b});`;
  }
}

/** Final value of one accumulator vector (4 columns). */
function finish(metric: Metric, acc: string, gr: string, gcBase: string): string {
  switch (metric) {
    case "dot":
    case "sqeuclidean":
    case "l1":
      return `let v = ${acc};`;
    case "l2":
      return `let v = sqrt(max(${acc}, vec4<f32>(0.0)));`;
    case "cosine":
      return `let rv = vec4<f32>(rn[p.rOff + min(${gcBase}, p.rRows - 1u)], rn[p.rOff + min(${gcBase} + 1u, p.rRows - 1u)],
        rn[p.rOff + min(${gcBase} + 2u, p.rRows - 1u)], rn[p.rOff + min(${gcBase} + 3u, p.rRows - 1u)]);
      let den = sqrt(vec4<f32>(qn[p.qOff + ${gr}])) * sqrt(rv);
      let v = select(vec4<f32>(0.0), ${acc} / den, den > vec4<f32>(0.0));`;
  }
}

/**
 * Tiled pairwise shader for one metric and tiling. Each thread owns `rowsPerThread` contiguous
 * output rows and `colsPerThread` contiguous columns (accumulators are `vec4`s across columns).
 * Per step the workgroup loads `tileK` input columns of its query and reference rows as `vec4`s
 * (coalesced along each row) and stores them transposed in workgroup memory, so the inner loop
 * reads one `vec4` of 4 query rows and one `vec4` of 4 reference rows per value of k. Tails are
 * zero-filled, and zeros add nothing to any of the five accumulators.
 *
 * @param metric the metric
 * @param t the tiling
 * @returns WGSL source
 */
export function _pairwiseWgsl(metric: Metric, t: PairwiseTiling): string {
  const TM = _tileRows(t);
  const TN = _tileCols(t);
  const RV = t.rowsPerThread / 4; // vec4s of query rows per thread
  const CV = t.colsPerThread / 4; // vec4s of reference columns per thread
  const K4 = t.tileK / 4;
  const threads = t.wgX * t.wgY;
  const cos = metric === "cosine";
  const decl: string[] = [];
  const body: string[] = [];
  const out: string[] = [];
  for (let i = 0; i < t.rowsPerThread; i++) {
    for (let j = 0; j < CV; j++) decl.push(`var acc${i}_${j} = vec4<f32>(0.0);`);
  }
  for (let v = 0; v < RV; v++) body.push(`let a${v} = qs[o + lid.y * ${RV}u + ${v}u];`);
  for (let j = 0; j < CV; j++) body.push(`let b${j} = rs[ob + lid.x * ${CV}u + ${j}u];`);
  for (let i = 0; i < t.rowsPerThread; i++) {
    for (let j = 0; j < CV; j++) body.push(accumulate(metric, `acc${i}_${j}`, `a${i >> 2}.${L[i & 3]}`, `b${j}`));
  }
  for (let i = 0; i < t.rowsPerThread; i++) {
    const lanes: string[] = [];
    for (let j = 0; j < CV; j++) {
      const gc = `gc${j}`;
      lanes.push(`{
      let ${gc} = col0 + lid.x * ${t.colsPerThread}u + ${4 * j}u;
      ${finish(metric, `acc${i}_${j}`, "gr", gc)}
      let at = gr * p.rRows + ${gc};
      if (${gc} < p.rRows) { outv[at] = v.x; }
      if (${gc} + 1u < p.rRows) { outv[at + 1u] = v.y; }
      if (${gc} + 2u < p.rRows) { outv[at + 2u] = v.z; }
      if (${gc} + 3u < p.rRows) { outv[at + 3u] = v.w; }
    }`);
    }
    out.push(`  {
    let gr = row0 + lid.y * ${t.rowsPerThread}u + ${i}u;
    if (gr < p.qRows) {
    ${lanes.join("\n    ")}
    }
  }`);
  }
  return /* wgsl */ `
struct Params { qRows: u32, rRows: u32, cols4: u32, qOff: u32, rOff: u32, p0: u32, p1: u32, p2: u32 }
@group(0) @binding(0) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> r: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> outv: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
${
    cos
      ? `@group(0) @binding(4) var<storage, read> qn: array<f32>;
@group(0) @binding(5) var<storage, read> rn: array<f32>;`
      : ""
  }

const TM: u32 = ${TM}u;
const TN: u32 = ${TN}u;
const K4: u32 = ${K4}u;
const NT: u32 = ${threads}u;
// [k][row / 4] holds rows row..row+3 at input column k.
var<workgroup> qs: array<vec4<f32>, ${t.tileK * TM / 4}>;
var<workgroup> rs: array<vec4<f32>, ${t.tileK * TN / 4}>;

@compute @workgroup_size(${t.wgX}, ${t.wgY})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let row0 = wg.y * TM;
  let col0 = wg.x * TN;
  ${decl.join("\n  ")}
  for (var k4 = 0u; k4 < p.cols4; k4 += K4) {
    for (var e = li; e < TM * K4; e += NT) {
      let row = e / K4;
      let kk = e % K4;
      var v = vec4<f32>(0.0);
      if (row0 + row < p.qRows && k4 + kk < p.cols4) { v = q[(p.qOff + row0 + row) * p.cols4 + k4 + kk]; }
      let base = kk * 4u * (TM / 4u) + row / 4u;
      let lane = row % 4u;
      qs[base][lane] = v.x;
      qs[base + TM / 4u][lane] = v.y;
      qs[base + 2u * (TM / 4u)][lane] = v.z;
      qs[base + 3u * (TM / 4u)][lane] = v.w;
    }
    for (var e = li; e < TN * K4; e += NT) {
      let row = e / K4;
      let kk = e % K4;
      var v = vec4<f32>(0.0);
      if (col0 + row < p.rRows && k4 + kk < p.cols4) { v = r[(p.rOff + col0 + row) * p.cols4 + k4 + kk]; }
      let base = kk * 4u * (TN / 4u) + row / 4u;
      let lane = row % 4u;
      rs[base][lane] = v.x;
      rs[base + TN / 4u][lane] = v.y;
      rs[base + 2u * (TN / 4u)][lane] = v.z;
      rs[base + 3u * (TN / 4u)][lane] = v.w;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < K4 * 4u; kk++) {
      let o = kk * (TM / 4u);
      let ob = kk * (TN / 4u);
      ${body.join("\n      ")}
    }
    workgroupBarrier();
  }
${out.join("\n")}
}
`;
}

/**
 * Squared L2 norm of each row of a `rows × cols4` vec4 matrix, one thread per row.
 *
 * @returns WGSL source
 */
export function _normsWgsl(): string {
  return /* wgsl */ `
struct Params { rows: u32, cols4: u32, p0: u32, p1: u32 }
@group(0) @binding(0) var<storage, read> m: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> outn: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(${_NORM_THREADS})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * ${_NORM_THREADS}u;
  if (i >= p.rows) { return; }
  var acc = vec4<f32>(0.0);
  for (var c = 0u; c < p.cols4; c++) { let v = m[i * p.cols4 + c]; acc = fma(v, v, acc); }
  outn[i] = (acc.x + acc.y) + (acc.z + acc.w);
}
`;
}

/**
 * Shared part of the two top-k kernels: a workgroup keeps its best `k2` candidates (k2 = k
 * rounded up to a power of two, ≤ 256) sorted in workgroup memory. Each thread offers one
 * candidate per step; candidates no better than the current k-th best are dropped at once, the
 * rest are appended to a 512-entry buffer. When the buffer is half full it is bitonic-sorted and
 * merged into the best list (the elementwise better of best[i] and buffer[k2−1−i] is a bitonic
 * sequence holding the best k2 of both, which half-cleaners then sort). Order: smaller key first,
 * ties to the lower index (a total order, so the result is exact and deterministic).
 */
function topkCommon(): string {
  return /* wgsl */ `
const T: u32 = ${_TOPK_THREADS}u;
const C: u32 = ${2 * _TOPK_THREADS}u;
var<workgroup> bk: array<f32, ${_GPU_MAX_K}>;
var<workgroup> bi: array<i32, ${_GPU_MAX_K}>;
var<workgroup> ck: array<f32, ${2 * _TOPK_THREADS}>;
var<workgroup> ci: array<i32, ${2 * _TOPK_THREADS}>;
var<workgroup> cnt: atomic<u32>;
var<workgroup> ncur: u32;

fn better(ka: f32, ia: i32, kb: f32, ib: i32) -> bool {
  if (ia < 0) { return false; }
  if (ib < 0) { return true; }
  return ka < kb || (ka == kb && ia < ib);
}

fn init(tid: u32) {
  for (var i = tid; i < ${_GPU_MAX_K}u; i += T) { bk[i] = 0.0; bi[i] = -1; }
  if (tid == 0u) { atomicStore(&cnt, 0u); }
  workgroupBarrier();
}

// Append a candidate if it beats the current k-th best.
fn offer(key: f32, idx: i32, k: u32) {
  if (better(key, idx, bk[k - 1u], bi[k - 1u])) {
    let s = atomicAdd(&cnt, 1u);
    ck[s] = key;
    ci[s] = idx;
  }
}

// Sort the buffer and merge it into the best list; k2 is uniform.
fn flush(tid: u32, n: u32, k2: u32) {
  for (var i = tid; i < C; i += T) { if (i >= n) { ck[i] = 0.0; ci[i] = -1; } }
  workgroupBarrier();
  for (var size = 2u; size <= C; size = size << 1u) {
    for (var j = size >> 1u; j > 0u; j = j >> 1u) {
      let i = 2u * j * (tid / j) + (tid % j);
      let l = i + j;
      let up = (i & size) == 0u;
      let lb = better(ck[l], ci[l], ck[i], ci[i]);
      let ib = better(ck[i], ci[i], ck[l], ci[l]);
      if ((up && lb) || (!up && ib)) {
        let tk = ck[i]; ck[i] = ck[l]; ck[l] = tk;
        let ti = ci[i]; ci[i] = ci[l]; ci[l] = ti;
      }
      workgroupBarrier();
    }
  }
  if (tid < k2) {
    let m = k2 - 1u - tid;
    if (better(ck[m], ci[m], bk[tid], bi[tid])) { bk[tid] = ck[m]; bi[tid] = ci[m]; }
  }
  workgroupBarrier();
  for (var j = k2 >> 1u; j > 0u; j = j >> 1u) {
    if (tid < k2 / 2u) {
      let i = 2u * j * (tid / j) + (tid % j);
      let l = i + j;
      if (better(bk[l], bi[l], bk[i], bi[i])) {
        let tk = bk[i]; bk[i] = bk[l]; bk[l] = tk;
        let ti = bi[i]; bi[i] = bi[l]; bi[l] = ti;
      }
    }
    workgroupBarrier();
  }
  if (tid == 0u) { atomicStore(&cnt, 0u); }
  workgroupBarrier();
}

// After a step of offers: flush when the buffer is at least half full (or at the end, when not empty).
fn step(tid: u32, k2: u32, last: bool) {
  workgroupBarrier();
  if (tid == 0u) { ncur = atomicLoad(&cnt); }
  let n = workgroupUniformLoad(&ncur);
  if (n >= T || (last && n > 0u)) { flush(tid, n, k2); }
  workgroupBarrier();
}
`;
}

/**
 * Top-k pass 1: one workgroup per (segment of `segLen` columns, query row) of a distance block;
 * writes the segment's best k (keys and global indices, −1 where fewer are eligible) to the
 * partial lists.
 *
 * @returns WGSL source
 */
export function _topkPartialWgsl(): string {
  return /* wgsl */ `
struct Params { qRows: u32, rRows: u32, k: u32, k2: u32, rOff: u32, largest: u32, useMask: u32, segLen: u32,
  nSeg: u32, p0: u32, p1: u32, p2: u32 }
@group(0) @binding(0) var<storage, read> dist: array<f32>;
@group(0) @binding(1) var<storage, read> mask: array<u32>;
@group(0) @binding(2) var<storage, read_write> partVal: array<f32>;
@group(0) @binding(3) var<storage, read_write> partIdx: array<i32>;
@group(0) @binding(4) var<uniform> p: Params;
${topkCommon()}
@compute @workgroup_size(${_TOPK_THREADS})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let seg = wg.x;
  let qi = wg.y;
  init(tid);
  let c0 = seg * p.segLen;
  let c1 = min(c0 + p.segLen, p.rRows);
  for (var base = c0; base < c1; base += T) {
    let c = base + tid;
    if (c < c1) {
      let g = p.rOff + c;
      if (p.useMask == 0u || mask[g] != 0u) {
        var key = dist[qi * p.rRows + c];
        if (p.largest != 0u) { key = -key; }
        offer(key, i32(g), p.k);
      }
    }
    step(tid, p.k2, base + T >= c1);
  }
  let o = (qi * p.nSeg + seg) * p.k;
  for (var t = tid; t < p.k; t += T) { partVal[o + t] = bk[t]; partIdx[o + t] = bi[t]; }
}
`;
}

/**
 * Top-k pass 2: one workgroup per query merges its `nSeg × k` partial entries and, when
 * `hasPrev`, the running list (k entries) into the new running list.
 *
 * @returns WGSL source
 */
export function _topkMergeWgsl(): string {
  return /* wgsl */ `
struct Params { qRows: u32, k: u32, k2: u32, nSeg: u32, hasPrev: u32, p0: u32, p1: u32, p2: u32 }
@group(0) @binding(0) var<storage, read> partVal: array<f32>;
@group(0) @binding(1) var<storage, read> partIdx: array<i32>;
@group(0) @binding(2) var<storage, read> prevVal: array<f32>;
@group(0) @binding(3) var<storage, read> prevIdx: array<i32>;
@group(0) @binding(4) var<storage, read_write> outVal: array<f32>;
@group(0) @binding(5) var<storage, read_write> outIdx: array<i32>;
@group(0) @binding(6) var<uniform> p: Params;
${topkCommon()}
@compute @workgroup_size(${_TOPK_THREADS})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let qi = wg.x;
  init(tid);
  let np = p.nSeg * p.k;
  let total = np + select(0u, p.k, p.hasPrev != 0u);
  for (var base = 0u; base < total; base += T) {
    let c = base + tid;
    if (c < np) {
      let at = qi * np + c;
      offer(partVal[at], partIdx[at], p.k);
    } else if (c < total) {
      let at = qi * p.k + (c - np);
      offer(prevVal[at], prevIdx[at], p.k);
    }
    step(tid, p.k2, base + T >= total);
  }
  for (var t = tid; t < p.k; t += T) { outVal[qi * p.k + t] = bk[t]; outIdx[qi * p.k + t] = bi[t]; }
}
`;
}

/**
 * Batch-hard mining: one workgroup per anchor. Each thread scans a strided share of the row with
 * strict comparisons (keeping its lowest index on ties), then a workgroup reduction picks the
 * hardest positive (farthest, or least similar, same-mask entry j ≠ i) and the hardest negative
 * (closest, or most similar, entry with mask 0, j ≠ i), ties to the lower index, exactly like a
 * sequential scan. Rows are read contiguously (coalesced).
 *
 * @returns WGSL source
 */
export function _batchHardWgsl(): string {
  const T = _BATCH_HARD_THREADS;
  return /* wgsl */ `
struct Params { b: u32, smaller: u32, p0: u32, p1: u32 }
@group(0) @binding(0) var<storage, read> dist: array<f32>;
@group(0) @binding(1) var<storage, read> same: array<u32>;
@group(0) @binding(2) var<storage, read_write> outIdx: array<i32>;
@group(0) @binding(3) var<storage, read_write> outVal: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> spi: array<i32, ${T}>;
var<workgroup> spv: array<f32, ${T}>;
var<workgroup> sni: array<i32, ${T}>;
var<workgroup> snv: array<f32, ${T}>;

// Is (va, ia) a harder positive than (vb, ib)? Harder = farther (distances) or less similar.
fn hardPos(va: f32, ia: i32, vb: f32, ib: i32, smaller: bool) -> bool {
  if (ia < 0) { return false; }
  if (ib < 0) { return true; }
  let h = select((va < vb), (va > vb), smaller);
  return h || (va == vb && ia < ib);
}

// Is (va, ia) a harder negative than (vb, ib)? Harder = closer (distances) or more similar.
fn hardNeg(va: f32, ia: i32, vb: f32, ib: i32, smaller: bool) -> bool {
  if (ia < 0) { return false; }
  if (ib < 0) { return true; }
  let h = select((va > vb), (va < vb), smaller);
  return h || (va == vb && ia < ib);
}

@compute @workgroup_size(${T})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let i = wg.x + wg.y * 65535u;
  let inRange = i < p.b;
  let smaller = p.smaller != 0u;
  var bp = -1;
  var bpv = 0.0;
  var bn = -1;
  var bnv = 0.0;
  if (inRange) {
    for (var j = tid; j < p.b; j += ${T}u) {
      if (j == i) { continue; }
      let at = i * p.b + j;
      let d = dist[at];
      let s = (same[at >> 2u] >> ((at & 3u) * 8u)) & 0xffu;
      if (s != 0u) {
        if (hardPos(d, i32(j), bpv, bp, smaller)) { bp = i32(j); bpv = d; }
      } else {
        if (hardNeg(d, i32(j), bnv, bn, smaller)) { bn = i32(j); bnv = d; }
      }
    }
  }
  spi[tid] = bp; spv[tid] = bpv; sni[tid] = bn; snv[tid] = bnv;
  workgroupBarrier();
  for (var s = ${T / 2}u; s > 0u; s = s >> 1u) {
    if (tid < s) {
      if (hardPos(spv[tid + s], spi[tid + s], spv[tid], spi[tid], smaller)) {
        spv[tid] = spv[tid + s]; spi[tid] = spi[tid + s];
      }
      if (hardNeg(snv[tid + s], sni[tid + s], snv[tid], sni[tid], smaller)) {
        snv[tid] = snv[tid + s]; sni[tid] = sni[tid + s];
      }
    }
    workgroupBarrier();
  }
  if (tid == 0u && inRange) {
    outIdx[i] = spi[0];
    outIdx[p.b + i] = sni[0];
    outVal[i] = spv[0];
    outVal[p.b + i] = snv[0];
  }
}
`;
}
