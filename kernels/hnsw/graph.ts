// deno-fmt-ignore-file (AssemblyScript: deno fmt would drop the @inline decorators)
// HNSW graph kernel (Malkov & Yashunin, "Efficient and robust approximate nearest neighbor search
// using Hierarchical Navigable Small World graphs", 2016/2018): insertion (their Algorithm 1),
// search-layer (Algorithm 2), the neighbour-selection heuristic (Algorithm 4, without extending
// candidates or keeping pruned connections) and k-NN search (Algorithm 5), plus an exact scan over
// a list of rows (the filtered fallback). Shared by the scalar and SIMD entries (scalar.ts, simd.ts);
// the distance is picked at compile time. JS owns the memory (see README.md for the layout): every
// pointer is a byte offset it laid out, nothing here allocates.

import { distScalar } from "./dist_scalar";
import { distSimd } from "./dist_simd";
import { codeDistScalar, codeDistSimd } from "./dist_codes";

// Layout (set by configure after every re-layout).
let VEC: usize = 0; // rows × dim float32
let DB: usize = 0; // bytes per row
let KIND: i32 = 0; // 0 negated dot, 1 squared L2, 2 L1
let M: i32 = 16; // links per node above layer 0
let M0: i32 = 32; // links per node on layer 0
let L0: usize = 0; // layer-0 lists: per node (1 + M0) i32 = count, ids
let L0S: usize = 0; // bytes per layer-0 list
let LEV: usize = 0; // per node i32 level
let UOFF: usize = 0; // per node i32: first i32 slot of its upper lists in UP (levels ≥ 1)
let UP: usize = 0; // upper lists: per node and layer 1..level, (1 + M) i32
let DEL: usize = 0; // per node u8: 1 = tombstone
let CODES: usize = 0; // per node CB bytes of int8 codes (0: no codes)
let CB: usize = 0; // bytes per code row (dim rounded up to 16, zero padded)
let USEC: bool = false; // the current search walks on codes (q points at a code row)
// Scratch, private to the calling instance.
let TAGS: usize = 0; // per node u32 visit tag
let CAND: usize = 0; // candidate min-heap, (f32 d, i32 node) pairs
let RES: usize = 0; // result max-heap, pairs
let WORK: usize = 0; // sorted pairs (drained results)
let NB: usize = 0; // (M0 + 1) pairs for shrinking a neighbour list
// State.
let ENTRY: i32 = -1;
let MAXL: i32 = -1;
let GEN: u32 = 0;
let candN: i32 = 0;
let resN: i32 = 0;
// Multi-threaded build (builds with threads only: `--enable threads`, shared memory). LOCKS: per
// node i32 spin lock guarding its lists (0 = single-threaded, nothing locked); CTL: i32 words
// [next node, end, entry, top layer, entry lock, failed] shared by the threads of one build.
let LOCKS: usize = 0;
let CTL: usize = 0;

/** Set the memory layout (byte offsets) and parameters. */
export function configure(
  vec: usize, dim: i32, kind: i32, m: i32, links0: usize, levels: usize, upperOff: usize, upper: usize,
  deleted: usize, tags: usize, cand: usize, res: usize, work: usize, nb: usize,
): void {
  VEC = vec; DB = <usize>dim << 2; KIND = kind; M = m; M0 = m << 1;
  L0 = links0; L0S = <usize>(1 + (m << 1)) << 2; LEV = levels; UOFF = upperOff; UP = upper; DEL = deleted;
  TAGS = tags; CAND = cand; RES = res; WORK = work; NB = nb;
}

/** Set the int8 code rows (0 = none) and their padded length in bytes. */
export function configureCodes(codes: usize, cb: i32): void {
  CODES = codes; CB = <usize>cb;
}

/** Lock words (0: none, the single-threaded build) and the control words of a multi-threaded build. */
export function configureThreads(locks: usize, ctl: usize): void {
  LOCKS = locks; CTL = ctl;
}

// Spin until the lock word at p is taken. A lock held for ~2^28 tries means a thread died holding
// it: the build is marked failed (CTL[5]) and goes on, and JS rolls it back.
// @ts-ignore: decorator
@inline function lockAt(p: usize): void {
  if (ASC_FEATURE_THREADS) {
    let spins = 0;
    while (atomic.cmpxchg<i32>(p, 0, 1) != 0) {
      if (++spins > (1 << 28)) { atomic.store<i32>(CTL + 20, 1); return; }
    }
  }
}

// @ts-ignore: decorator
@inline function unlockAt(p: usize): void {
  if (ASC_FEATURE_THREADS) atomic.store<i32>(p, 0);
}

// Lock / unlock a node's lists (no-ops in a single-threaded build).
// @ts-ignore: decorator
@inline function lockNode(node: i32): void {
  if (ASC_FEATURE_THREADS) { if (LOCKS != 0) lockAt(LOCKS + (<usize>node << 2)); }
}

// @ts-ignore: decorator
@inline function unlockNode(node: i32): void {
  if (ASC_FEATURE_THREADS) { if (LOCKS != 0) unlockAt(LOCKS + (<usize>node << 2)); }
}

/** Entry point node (-1 when empty). */
export function entryPoint(): i32 { return ENTRY; }
/** Top layer (-1 when empty). */
export function maxLevel(): i32 { return MAXL; }
/** Restore entry point and top layer (load, rebuild). */
export function setEntry(entry: i32, level: i32): void { ENTRY = entry; MAXL = level; }

// @ts-ignore: decorator
@inline function dist(a: usize, b: usize): f32 {
  if (ASC_FEATURE_SIMD) return distSimd(KIND, a, b, DB);
  return distScalar(KIND, a, b, DB);
}

// @ts-ignore: decorator
@inline function row(node: i32): usize { return VEC + <usize>node * DB; }

// Distance from the walk's query to a node: float32 rows, or int8 codes when USEC (q is a code row).
// @ts-ignore: decorator
@inline function qdist(q: usize, node: i32): f32 {
  if (USEC) {
    const c = CODES + <usize>node * CB;
    if (ASC_FEATURE_SIMD) return codeDistSimd(KIND, q, c, CB);
    return codeDistScalar(KIND, q, c, CB);
  }
  return dist(q, row(node));
}

// Address of a node's list on a layer: [count, id, id, ...].
// @ts-ignore: decorator
@inline function links(node: i32, layer: i32): usize {
  if (layer == 0) return L0 + <usize>node * L0S;
  return UP + ((<usize>load<i32>(UOFF + (<usize>node << 2)) + <usize>(layer - 1) * <usize>(1 + M)) << 2);
}

// (d1, n1) before (d2, n2): smaller distance, then lower node (insertion position).
// @ts-ignore: decorator
@inline function before(d1: f32, n1: i32, d2: f32, n2: i32): bool {
  return d1 < d2 || (d1 == d2 && n1 < n2);
}

// @ts-ignore: decorator
@inline function pd(h: usize, i: i32): f32 { return load<f32>(h + (<usize>i << 3)); }
// @ts-ignore: decorator
@inline function pn(h: usize, i: i32): i32 { return load<i32>(h + (<usize>i << 3), 4); }
// @ts-ignore: decorator
@inline function put(h: usize, i: i32, d: f32, n: i32): void {
  const p = h + (<usize>i << 3);
  store<f32>(p, d);
  store<i32>(p, n, 4);
}

// Binary heap push/pop. `max` = true: the top is the worst pair (result heap); false: the best.
function heapPush(h: usize, size: i32, d: f32, n: i32, max: bool): void {
  let i = size;
  while (i > 0) {
    const p = (i - 1) >> 1;
    const dp = pd(h, p), np = pn(h, p);
    const up = max ? before(dp, np, d, n) : before(d, n, dp, np);
    if (!up) break;
    put(h, i, dp, np);
    i = p;
  }
  put(h, i, d, n);
}

function heapPop(h: usize, size: i32, max: bool): void {
  const last = size - 1;
  const d = pd(h, last), n = pn(h, last);
  let i = 0;
  while (true) {
    let c = 2 * i + 1;
    if (c >= last) break;
    let dc = pd(h, c), nc = pn(h, c);
    if (c + 1 < last) {
      const d2 = pd(h, c + 1), n2 = pn(h, c + 1);
      if (max ? before(dc, nc, d2, n2) : before(d2, n2, dc, nc)) { c++; dc = d2; nc = n2; }
    }
    if (max ? !before(d, n, dc, nc) : !before(dc, nc, d, n)) break;
    put(h, i, dc, nc);
    i = c;
  }
  if (last > 0) put(h, i, d, n);
}

// Drain a max-heap of n pairs at h into WORK in increasing order; returns n.
function drainHeap(h: usize, n: i32): i32 {
  for (let i = n - 1; i >= 0; i--) {
    put(WORK, i, pd(h, 0), pn(h, 0));
    heapPop(h, i + 1, true);
  }
  return n;
}

// Drain the result heap into WORK in increasing order; returns the count.
function drain(): i32 {
  const n = drainHeap(RES, resN);
  resN = 0;
  return n;
}

// Rerank the walk's results (resN pairs in RES, code distances) by float32 distance to the query
// row qf: the k best in a bounded max-heap in CAND (free after the walk), drained into WORK.
function rerank(qf: usize, k: i32): i32 {
  let n = 0;
  for (let i = 0; i < resN; i++) {
    const node = pn(RES, i);
    const d = dist(qf, row(node));
    if (n < k) heapPush(CAND, n++, d, node, true);
    else if (before(d, node, pd(CAND, 0), pn(CAND, 0))) {
      heapPop(CAND, n--, true);
      heapPush(CAND, n++, d, node, true);
    }
  }
  resN = 0;
  return drainHeap(CAND, n);
}

function newVisit(): void {
  GEN++;
  if (GEN == 0) {
    // Wrapped: clear every tag once per 2³² searches.
    memory.fill(TAGS, 0, <usize>(CAND - TAGS));
    GEN = 1;
  }
}

// @ts-ignore: decorator
@inline function visit(node: i32): bool {
  const p = TAGS + (<usize>node << 2);
  if (load<u32>(p) == GEN) return false;
  store<u32>(p, GEN);
  return true;
}

// Whether a node may be returned: not a tombstone (when skipDel) and eligible (when filt ≠ 0).
// @ts-ignore: decorator
@inline function accepted(node: i32, filt: usize, skipDel: bool): bool {
  if (skipDel && load<u8>(DEL + <usize>node) != 0) return false;
  return filt == 0 || load<u8>(filt + <usize>node) != 0;
}

// Greedy walk on one layer from (ep, epd) towards q (search-layer with ef = 1); returns the node,
// leaves its distance in lastD.
let lastD: f32 = 0;
function greedy(q: usize, ep: i32, epd: f32, layer: i32): i32 {
  let cur = ep, curd = epd;
  let changed = true;
  while (changed) {
    changed = false;
    const c = cur;
    const l = links(c, layer);
    lockNode(c);
    const cnt = load<i32>(l);
    for (let j = 0; j < cnt; j++) {
      const nb = load<i32>(l + (<usize>(j + 1) << 2));
      const d = qdist(q, nb);
      if (before(d, nb, curd, cur)) { cur = nb; curd = d; changed = true; }
    }
    unlockNode(c);
  }
  lastD = curd;
  return cur;
}

// Read the first word of every unvisited neighbour's row (or code row) before any distance: the
// cache misses of up to 2M rows then overlap instead of coming one distance at a time (hnswlib
// prefetches for the same reason; WebAssembly has no prefetch, so a load whose sum is kept in a
// global stands in for it). Changes no result.
let SINK: u32 = 0;
function touch(q: usize, l: usize, cnt: i32): void {
  let s: u32 = 0;
  for (let j = 0; j < cnt; j++) {
    const nb = load<i32>(l + (<usize>(j + 1) << 2));
    if (load<u32>(TAGS + (<usize>nb << 2)) == GEN) continue;
    s += USEC ? load<u32>(CODES + <usize>nb * CB) : load<u32>(row(nb));
  }
  SINK += s;
}

// Search-layer (Algorithm 2): the ef closest accepted nodes to q reachable from ep on one layer,
// left in the result heap (resN). Rejected nodes (tombstones, filtered out) are walked through but
// never enter the results.
function searchLayer(q: usize, ep: i32, epd: f32, ef: i32, layer: i32, filt: usize, skipDel: bool): void {
  newVisit();
  candN = 0;
  resN = 0;
  visit(ep);
  heapPush(CAND, candN++, epd, ep, false);
  if (accepted(ep, filt, skipDel)) heapPush(RES, resN++, epd, ep, true);
  while (candN > 0) {
    const cd = pd(CAND, 0), c = pn(CAND, 0);
    if (resN >= ef && !before(cd, c, pd(RES, 0), pn(RES, 0))) break;
    heapPop(CAND, candN--, false);
    const l = links(c, layer);
    lockNode(c);
    const cnt = load<i32>(l);
    touch(q, l, cnt);
    for (let j = 0; j < cnt; j++) {
      const nb = load<i32>(l + (<usize>(j + 1) << 2));
      if (!visit(nb)) continue;
      const d = qdist(q, nb);
      if (resN < ef || before(d, nb, pd(RES, 0), pn(RES, 0))) {
        heapPush(CAND, candN++, d, nb, false);
        if (accepted(nb, filt, skipDel)) {
          heapPush(RES, resN++, d, nb, true);
          if (resN > ef) heapPop(RES, resN--, true);
        }
      }
    }
    unlockNode(c);
  }
}

// Selection heuristic (Algorithm 4): from n pairs at src sorted by distance to the base node, keep a
// candidate when it is closer to the base than to every candidate kept so far; at most m. Writes
// the kept ids to the list at dst (count first).
function selectHeuristic(src: usize, n: i32, m: i32, dst: usize): void {
  let cnt = 0;
  for (let i = 0; i < n && cnt < m; i++) {
    const e = pn(src, i), de = pd(src, i);
    const re = row(e);
    let good = true;
    for (let j = 0; j < cnt; j++) {
      if (dist(re, row(load<i32>(dst + (<usize>(j + 1) << 2)))) < de) { good = false; break; }
    }
    if (good) { store<i32>(dst + (<usize>(cnt + 1) << 2), e); cnt++; }
  }
  store<i32>(dst, cnt);
}

// Add the link e → q on a layer; when e's list is full, shrink it with the heuristic.
function connect(e: i32, q: i32, layer: i32): void {
  const l = links(e, layer);
  const cap = layer == 0 ? M0 : M;
  lockNode(e);
  const cnt = load<i32>(l);
  if (cnt < cap) {
    store<i32>(l + (<usize>(cnt + 1) << 2), q);
    store<i32>(l, cnt + 1);
    unlockNode(e);
    return;
  }
  const re = row(e);
  // Insertion sort of the cap + 1 candidates by distance to e (ties: lower node first).
  let n = 0;
  for (let j = 0; j <= cnt; j++) {
    const x = j < cnt ? load<i32>(l + (<usize>(j + 1) << 2)) : q;
    const dx = dist(re, row(x));
    let i = n;
    while (i > 0 && before(dx, x, pd(NB, i - 1), pn(NB, i - 1))) { put(NB, i, pd(NB, i - 1), pn(NB, i - 1)); i--; }
    put(NB, i, dx, x);
    n++;
  }
  selectHeuristic(NB, n, cap, l);
  unlockNode(e);
}

/**
 * Insert node `q` (its row, level and upper-list offset already written by JS) with candidate list
 * size `efc` (Algorithm 1). Empties every list of q first.
 */
export function insert(q: i32, efc: i32): void {
  const level = load<i32>(LEV + (<usize>q << 2));
  for (let l = 0; l <= level; l++) store<i32>(links(q, l), 0);
  const qv = row(q);
  const shared = ASC_FEATURE_THREADS && LOCKS != 0;
  if (ASC_FEATURE_THREADS) {
    if (shared) { ENTRY = atomic.load<i32>(CTL + 8); MAXL = atomic.load<i32>(CTL + 12); }
  }
  if (ENTRY < 0) { ENTRY = q; MAXL = level; return; }
  let ep = ENTRY;
  let epd = dist(qv, row(ep));
  for (let l = MAXL; l > level; l--) { ep = greedy(qv, ep, epd, l); epd = lastD; }
  for (let l = min(level, MAXL); l >= 0; l--) {
    searchLayer(qv, ep, epd, efc, l, 0, false);
    const n = drain();
    const ql = links(q, l);
    // Shared build: select into CAND (free after the walk), then publish under q's lock (other
    // threads may already walk through q on a higher layer) and link from the private copy.
    const sel = shared ? CAND : ql;
    selectHeuristic(WORK, n, M, sel);
    const cnt = load<i32>(sel);
    if (shared) {
      lockNode(q);
      memory.copy(ql, sel, <usize>(cnt + 1) << 2);
      unlockNode(q);
    }
    for (let j = 0; j < cnt; j++) connect(load<i32>(sel + (<usize>(j + 1) << 2)), q, l);
    ep = pn(WORK, 0);
    epd = pd(WORK, 0);
  }
  if (level > MAXL) {
    if (ASC_FEATURE_THREADS) {
      if (shared) {
        lockAt(CTL + 16);
        if (level > atomic.load<i32>(CTL + 12)) { atomic.store<i32>(CTL + 8, q); atomic.store<i32>(CTL + 12, level); }
        unlockAt(CTL + 16);
      }
    }
    ENTRY = q; MAXL = level;
  }
}

/**
 * One thread's share of a multi-threaded build (threads builds, after configureThreads): claim the
 * next node from CTL[0] until CTL[1] (or until the build is marked failed) and insert it with its
 * lists locked as it reads and writes them. The threads' insertion order interleaves, so the
 * graph differs from a single-threaded build's (same algorithm, same quality). Returns the number
 * of nodes this thread inserted.
 */
export function insertShared(efc: i32): i32 {
  let done = 0;
  if (ASC_FEATURE_THREADS) {
    while (atomic.load<i32>(CTL + 20) == 0) {
      const q = atomic.add<i32>(CTL, 1);
      if (q >= atomic.load<i32>(CTL + 4)) break;
      insert(q, efc);
      done++;
    }
  }
  return done;
}

/** Insert nodes [n0, n1) in order. */
export function insertRange(n0: i32, n1: i32, efc: i32): void {
  for (let i = n0; i < n1; i++) insert(i, efc);
}

// Write the first k pairs of WORK (n available) to outIdx/outDist, padding with -1 / +Infinity.
function emit(n: i32, k: i32, outIdx: usize, outDist: usize): void {
  for (let i = 0; i < k; i++) {
    const o = <usize>i << 2;
    if (i < n) { store<i32>(outIdx + o, pn(WORK, i)); store<f32>(outDist + o, pd(WORK, i)); }
    else { store<i32>(outIdx + o, -1); store<f32>(outDist + o, Infinity); }
  }
}

/**
 * k-NN search (Algorithm 5) for `nq` query rows at q: greedy descent from the entry point to layer
 * 1, then search-layer on layer 0 with max(ef, k), skipping tombstones and (when filt ≠ 0) nodes
 * whose eligibility byte is 0. Writes nq × k node indices and internal distances (ascending).
 * `full` ≠ 0 (JS sets it when ef ≥ the node count) skips the descent and walks layer 0 from the
 * entry point, from which every node is reachable after a repair: the search is then exact.
 * `qc` ≠ 0 (with code rows configured): nq int8 code rows of the queries (CB bytes each); the walk
 * compares codes and its max(ef, k) results are reranked by float32 distance to the rows at q.
 */
export function search(
  q: usize, nq: i32, k: i32, ef: i32, filt: usize, outIdx: usize, outDist: usize, full: i32, qc: usize,
): void {
  const e = max(ef, k);
  USEC = qc != 0 && CODES != 0;
  for (let i = 0; i < nq; i++) {
    const qf = q + <usize>i * DB;
    // The walk's query: the float32 row, or its int8 code row (then rerank in float32).
    const qv = USEC ? qc + <usize>i * CB : qf;
    const oo = <usize>i * <usize>k << 2;
    if (ENTRY < 0) { resN = 0; emit(0, k, outIdx + oo, outDist + oo); continue; }
    let ep = ENTRY;
    let epd = qdist(qv, ep);
    if (full == 0) for (let l = MAXL; l > 0; l--) { ep = greedy(qv, ep, epd, l); epd = lastD; }
    searchLayer(qv, ep, epd, e, 0, filt, true);
    emit(USEC ? rerank(qf, k) : drain(), k, outIdx + oo, outDist + oo);
  }
  USEC = false;
}

/**
 * Exact k-NN over an explicit list of `nl` nodes (i32 at list) for `nq` query rows: the filtered
 * fallback when few nodes are eligible. Same output as search.
 */
export function exact(q: usize, nq: i32, k: i32, list: usize, nl: i32, outIdx: usize, outDist: usize): void {
  for (let i = 0; i < nq; i++) {
    const qv = q + <usize>i * DB;
    resN = 0;
    for (let j = 0; j < nl; j++) {
      const node = load<i32>(list + (<usize>j << 2));
      const d = dist(qv, row(node));
      if (resN < k) heapPush(RES, resN++, d, node, true);
      else if (before(d, node, pd(RES, 0), pn(RES, 0))) {
        heapPop(RES, resN--, true);
        heapPush(RES, resN++, d, node, true);
      }
    }
    const oo = <usize>i * <usize>k << 2;
    emit(drain(), k, outIdx + oo, outDist + oo);
  }
}

/** Internal distance between rows a and b (test hook; kinds as in dist_scalar.ts). */
export function distance(a: usize, b: usize): f32 {
  return dist(a, b);
}

/** Code distance between the code rows of nodes a and b (test hook; kinds as in dist_codes.ts). */
export function codeDistance(a: i32, b: i32): f32 {
  USEC = true;
  const d = qdist(CODES + <usize>a * CB, b);
  USEC = false;
  return d;
}
