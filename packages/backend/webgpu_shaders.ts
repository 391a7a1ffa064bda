/**
 * WGSL compute shaders of the `webgpu` backend: tiled pairwise distance for every metric,
 * a per-query top-k selection that merges a block of distances into a running list, and
 * batch-hard mining.
 *
 * Memory contract (all row-major, f32 unless noted):
 * - pairwise: `q` (query rows × cols), `r` (reference rows × cols), `out` (qRows × rRows of the
 *   chunk). Rows `qOff..qOff+qRows` of `q` against rows `rOff..rOff+rRows` of `r`.
 * - top-k: `dist` (qRows × rRows block), `prevVal`/`prevIdx` (qRows × k running list, i32 indices,
 *   -1 = empty), `outVal`/`outIdx` (same shape), `mask` (one u32 per reference, 1 = eligible).
 * - batch-hard: `dist` (B × B), `same` (B × B bytes packed four per u32, little-endian),
 *   `outIdx` (2B: positives then negatives, -1 = none), `outVal` (2B).
 *
 * @module
 */
import type { Metric } from "./types.ts";

/** Output tile edge of the pairwise shader (each of 16×16 threads computes 4×4 values). */
export const _PAIRWISE_TILE = 64;

/** Threads per workgroup of the top-k selection shader. */
export const _TOPK_THREADS = 64;

/** Largest k the GPU top-k shader supports (each thread keeps a private list of this size). */
export const _GPU_MAX_K = 64;

/** Threads per workgroup of the batch-hard shader. */
export const _BATCH_HARD_THREADS = 64;

const ROWS = [0, 1, 2, 3];
const LANES = ["x", "y", "z", "w"];

function accumulate(metric: Metric): string {
  return ROWS.map((i) => {
    const ai = `vec4<f32>(a.${LANES[i]})`;
    switch (metric) {
      case "dot":
      case "cosine":
        return `acc${i} = fma(${ai}, b, acc${i});`;
      case "l2":
      case "sqeuclidean":
        return `let d${i} = ${ai} - b; acc${i} = fma(d${i}, d${i}, acc${i});`;
      case "l1":
        return `acc${i} = acc${i} + abs(${ai} - b);`;
    }
  }).join("\n      ");
}

function finish(metric: Metric, i: number): string {
  switch (metric) {
    case "dot":
    case "sqeuclidean":
    case "l1":
      return `let v${i} = acc${i};`;
    case "l2":
      return `let v${i} = sqrt(max(acc${i}, vec4<f32>(0.0)));`;
    case "cosine":
      return `let den${i} = sqrt(qq.${LANES[i]}) * sqrt(rr);
    let v${i} = select(vec4<f32>(0.0), acc${i} / den${i}, den${i} > vec4<f32>(0.0));`;
  }
}

function store(metric: Metric): string {
  return ROWS.map((i) => {
    const lanes = ROWS.map((j) => `    if (gc${j} < p.rRows) { outv[gr${i} * p.rRows + gc${j}] = v${i}.${LANES[j]}; }`)
      .join("\n");
    return `  let gr${i} = row0 + lid.y + ${16 * i}u;
  if (gr${i} < p.qRows) {
    ${finish(metric, i)}
${lanes}
  }`;
  }).join("\n");
}

/**
 * Tiled pairwise shader for one metric. Workgroup 16×16, each thread a 4×4 block of a 64×64
 * output tile (rows and columns strided by 16, so neighbouring threads store neighbouring
 * columns); inputs staged through workgroup memory 16 columns at a time, zero-padded at the
 * tails (zeros add nothing to any of the five accumulators). Accumulators are `vec4`s, which
 * keeps the shader small for software compilers (llvmpipe) as well as fast on GPUs.
 *
 * @param metric the metric
 * @returns WGSL source
 */
export function _pairwiseWgsl(metric: Metric): string {
  const cos = metric === "cosine";
  return /* wgsl */ `
struct Params { qRows: u32, rRows: u32, cols: u32, qOff: u32, rOff: u32, p0: u32, p1: u32, p2: u32 }
@group(0) @binding(0) var<storage, read> q: array<f32>;
@group(0) @binding(1) var<storage, read> r: array<f32>;
@group(0) @binding(2) var<storage, read_write> outv: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

const TILE: u32 = 64u;
const TK: u32 = 16u;
var<workgroup> qs: array<f32, 1024>;
var<workgroup> rs: array<f32, 1024>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let row0 = wg.y * TILE;
  let col0 = wg.x * TILE;
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  var qq = vec4<f32>(0.0);
  var rr = vec4<f32>(0.0);
  for (var k0 = 0u; k0 < p.cols; k0 += TK) {
    for (var e = 0u; e < 4u; e++) {
      let idx = li + e * 256u;
      let row = idx / TK;
      let kk = idx % TK;
      let gk = k0 + kk;
      var vq = 0.0;
      var vr = 0.0;
      if (row0 + row < p.qRows && gk < p.cols) { vq = q[(p.qOff + row0 + row) * p.cols + gk]; }
      if (col0 + row < p.rRows && gk < p.cols) { vr = r[(p.rOff + col0 + row) * p.cols + gk]; }
      qs[kk * TILE + row] = vq;
      rs[kk * TILE + row] = vr;
    }
    workgroupBarrier();
    let kn = min(TK, p.cols - k0);
    for (var kk = 0u; kk < kn; kk++) {
      let o = kk * TILE;
      let a = vec4<f32>(qs[o + lid.y], qs[o + lid.y + 16u], qs[o + lid.y + 32u], qs[o + lid.y + 48u]);
      let b = vec4<f32>(rs[o + lid.x], rs[o + lid.x + 16u], rs[o + lid.x + 32u], rs[o + lid.x + 48u]);
      ${cos ? "qq = fma(a, a, qq); rr = fma(b, b, rr);" : ""}
      ${accumulate(metric)}
    }
    workgroupBarrier();
  }
  let gc0 = col0 + lid.x;
  let gc1 = gc0 + 16u;
  let gc2 = gc0 + 32u;
  let gc3 = gc0 + 48u;
${store(metric)}
}
`;
}

/**
 * Top-k selection: one workgroup of 64 threads per query. Each thread keeps a sorted private
 * list of its best k among a strided share of the block and of the running list, then k rounds
 * of a workgroup reduction pick the global best head. Order: smaller key first (key = value, or
 * −value when `largest`), ties to the lower reference index; index −1 is worse than anything.
 *
 * @returns WGSL source
 */
export function _topkWgsl(): string {
  return /* wgsl */ `
struct Params { qRows: u32, rRows: u32, k: u32, rOff: u32, largest: u32, hasPrev: u32, useMask: u32, p0: u32 }
@group(0) @binding(0) var<storage, read> dist: array<f32>;
@group(0) @binding(1) var<storage, read> prevVal: array<f32>;
@group(0) @binding(2) var<storage, read> prevIdx: array<i32>;
@group(0) @binding(3) var<storage, read_write> outVal: array<f32>;
@group(0) @binding(4) var<storage, read_write> outIdx: array<i32>;
@group(0) @binding(5) var<storage, read> mask: array<u32>;
@group(0) @binding(6) var<uniform> p: Params;

const WG: u32 = ${_TOPK_THREADS}u;
const MAXK: u32 = ${_GPU_MAX_K}u;
var<workgroup> hk: array<f32, ${_TOPK_THREADS}>;
var<workgroup> hi: array<i32, ${_TOPK_THREADS}>;
var<workgroup> ht: array<u32, ${_TOPK_THREADS}>;

fn better(ka: f32, ia: i32, kb: f32, ib: i32) -> bool {
  if (ia < 0) { return false; }
  if (ib < 0) { return true; }
  return ka < kb || (ka == kb && ia < ib);
}

@compute @workgroup_size(${_TOPK_THREADS})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let qi = wg.x;
  let k = p.k;
  var lk: array<f32, ${_GPU_MAX_K}>;
  var lx: array<i32, ${_GPU_MAX_K}>;
  for (var t = 0u; t < MAXK; t++) { lk[t] = 0.0; lx[t] = -1; }
  var n = 0u;
  let total = p.rRows + select(0u, k, p.hasPrev != 0u);
  for (var c = tid; c < total; c += WG) {
    var key: f32;
    var idx: i32;
    if (c < p.rRows) {
      let g = p.rOff + c;
      if (p.useMask != 0u && mask[g] == 0u) { continue; }
      key = dist[qi * p.rRows + c];
      idx = i32(g);
    } else {
      let t = c - p.rRows;
      idx = prevIdx[qi * k + t];
      if (idx < 0) { continue; }
      key = prevVal[qi * k + t];
    }
    if (p.largest != 0u) { key = -key; }
    if (n == k && !better(key, idx, lk[k - 1u], lx[k - 1u])) { continue; }
    var pos = min(n, k - 1u);
    while (pos > 0u && better(key, idx, lk[pos - 1u], lx[pos - 1u])) {
      lk[pos] = lk[pos - 1u];
      lx[pos] = lx[pos - 1u];
      pos = pos - 1u;
    }
    lk[pos] = key;
    lx[pos] = idx;
    if (n < k) { n = n + 1u; }
  }
  var head = 0u;
  for (var round = 0u; round < k; round++) {
    if (head < n) { hk[tid] = lk[head]; hi[tid] = lx[head]; } else { hk[tid] = 0.0; hi[tid] = -1; }
    ht[tid] = tid;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s = s >> 1u) {
      if (tid < s && better(hk[tid + s], hi[tid + s], hk[tid], hi[tid])) {
        hk[tid] = hk[tid + s];
        hi[tid] = hi[tid + s];
        ht[tid] = ht[tid + s];
      }
      workgroupBarrier();
    }
    let wk = hk[0];
    let wi = hi[0];
    let wt = ht[0];
    if (wi >= 0 && tid == wt) { head = head + 1u; }
    if (tid == 0u) {
      outIdx[qi * k + round] = wi;
      outVal[qi * k + round] = select(wk, -wk, p.largest != 0u);
    }
    workgroupBarrier();
  }
}
`;
}

/**
 * Batch-hard mining: one thread per anchor scans its row. Hardest positive = farthest (or least
 * similar) same-mask entry j ≠ i; hardest negative = closest (or most similar) entry with mask 0,
 * j ≠ i. Strict comparisons keep the lower index on ties.
 *
 * @returns WGSL source
 */
export function _batchHardWgsl(): string {
  return /* wgsl */ `
struct Params { b: u32, smaller: u32, p0: u32, p1: u32 }
@group(0) @binding(0) var<storage, read> dist: array<f32>;
@group(0) @binding(1) var<storage, read> same: array<u32>;
@group(0) @binding(2) var<storage, read_write> outIdx: array<i32>;
@group(0) @binding(3) var<storage, read_write> outVal: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(${_BATCH_HARD_THREADS})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x;
  if (i >= p.b) { return; }
  let smaller = p.smaller != 0u;
  var bp = -1;
  var bpv = 0.0;
  var bn = -1;
  var bnv = 0.0;
  for (var j = 0u; j < p.b; j++) {
    if (j == i) { continue; }
    let at = i * p.b + j;
    let d = dist[at];
    let s = (same[at >> 2u] >> ((at & 3u) * 8u)) & 0xffu;
    if (s != 0u) {
      let harder = select((d < bpv), (d > bpv), smaller);
      if (bp < 0 || harder) { bp = i32(j); bpv = d; }
    } else {
      let harder = select((d > bnv), (d < bnv), smaller);
      if (bn < 0 || harder) { bn = i32(j); bnv = d; }
    }
  }
  outIdx[i] = bp;
  outIdx[p.b + i] = bn;
  outVal[i] = bpv;
  outVal[p.b + i] = bnv;
}
`;
}
