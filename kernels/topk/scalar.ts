// deno-fmt-ignore-file (AssemblyScript: deno fmt would drop the @inline decorators)
// Dense kernel module (scalar build): pairwise, norms and normalisation from ../pairwise/scalar.ts plus
// exact top-k streamed over reference blocks. Entry point compiled by build.json.
import { blockPair, packBlock, workBytes } from "../pairwise/scalar";
import { fullRowGroup, TOPK_HIST_BYTES, topkFinish, topkGroupRows, topkInit, topkRow, topkSelect } from "./select";

export { blockPair, blockRows, normalize, norms, packBlock, pairwise, pairwiseRange, workBytes } from "../pairwise/scalar";
export { fullRowGroup, topkFinish, topkInit, topkSelect, topkStride, topkWorkBytes } from "./select";

/**
 * Top-k for query rows [i0, i1) against all nr references, in blocks of `rb` references.
 * `scratch` holds 2 × rb floats, then `workBytes(d)` bytes rounded up to 16, then `topkWorkBytes()`
 * bytes (all private to the calling thread). When k is a large share of nr (`fullRowGroup`),
 * groups of query rows keep their whole rows of values there and each row is selected at once. Buffers at vals/idx (topkStride(k) slots per row; the
 * first k hold the result: indices and metric values). `excl` (0 = none): one int32 per query row,
 * a reference index that row skips, minus `exclBase` (the caller's offset of `r`).
 */
export function topk(
  q: usize,
  r: usize,
  nr: i32,
  d: i32,
  metric: i32,
  qinv: usize,
  rinv: usize,
  elig: usize,
  k: i32,
  largest: i32,
  vals: usize,
  idx: usize,
  i0: i32,
  i1: i32,
  scratch: usize,
  rb: i32,
  excl: usize,
  exclBase: i32,
): void {
  const work = scratch + (<usize>rb << 3);
  const hist = work + ((<usize>workBytes(d) + 15) & ~15);
  const full = fullRowGroup(nr, k);
  if (full > 0) {
    // Full rows: each group's scores stay whole (after the histograms), then one pass per row.
    const rows = hist + <usize>TOPK_HIST_BYTES;
    const ldr = <usize>nr << 2;
    for (let g0 = i0; g0 < i1; g0 += full) {
      const g1 = min(g0 + full, i1);
      for (let b0 = 0; b0 < nr; b0 += rb) {
        const b1 = min(b0 + rb, nr);
        packBlock(r, d, b0, b1, work);
        for (let i = g0; i < g1; i += 2) {
          const ie = min(i + 2, g1);
          const o0 = rows + <usize>(i - g0) * ldr + (<usize>b0 << 2);
          blockPair(q, r, d, metric, qinv, rinv, i, ie - i == 2 ? 1 : 0, b0, b1, o0, o0 + ldr, work);
        }
      }
      for (let i = g0; i < g1; i++) {
        topkRow(rows + <usize>(i - g0) * ldr, nr, i, elig, k, largest, vals, idx, excl, exclBase, hist);
      }
    }
    return;
  }
  // Query rows go in groups whose buffers (16·k bytes each) fit in about 512 KiB of cache, so a
  // large k does not evict every buffer at each reference block; small k gives one group.
  topkInit(vals, idx, k, i0, i1);
  const group = topkGroupRows(k);
  for (let g0 = i0; g0 < i1; g0 += group) {
    const g1 = min(g0 + group, i1);
    topkBlocks(q, r, d, metric, qinv, rinv, elig, k, largest, vals, idx, g0, g1, scratch, rb, excl, exclBase, 0, nr);
    // One call per row while the group is in cache: V8 tiers a WebAssembly function up for its
    // next call, so many short calls reach optimised code where one long call would not.
    for (let i = g0; i < g1; i++) topkFinish(vals, idx, k, largest, i, i + 1, hist);
  }
}

/**
 * The streaming part of `topk` without its start and end: merge references [j0, j1) (`j0` a
 * multiple of `rb`, `j1` one too or the end) into the buffers of query rows [i0, i1), which
 * `topkInit` emptied and `topkFinish` will finish. Indices are absolute (`r` is the whole
 * reference set), so a thread can take reference blocks in any increasing order (the blocked
 * multithreaded split) and get the values and ties the single-threaded `topk` gets. Same
 * `scratch` as `topk`; the streaming mode only (`fullRowGroup(nr, k) == 0`).
 */
export function topkBlocks(
  q: usize,
  r: usize,
  d: i32,
  metric: i32,
  qinv: usize,
  rinv: usize,
  elig: usize,
  k: i32,
  largest: i32,
  vals: usize,
  idx: usize,
  i0: i32,
  i1: i32,
  scratch: usize,
  rb: i32,
  excl: usize,
  exclBase: i32,
  j0: i32,
  j1: i32,
): void {
  const work = scratch + (<usize>rb << 3);
  const hist = work + ((<usize>workBytes(d) + 15) & ~15);
  const group = topkGroupRows(k);
  for (let g0 = i0; g0 < i1; g0 += group) {
    const g1 = min(g0 + group, i1);
    for (let b0 = j0; b0 < j1; b0 += rb) {
      const b1 = min(b0 + rb, j1);
      packBlock(r, d, b0, b1, work);
      for (let i = g0; i < g1; i += 2) {
        const ie = min(i + 2, g1);
        blockPair(q, r, d, metric, qinv, rinv, i, ie - i == 2 ? 1 : 0, b0, b1, scratch, scratch + (<usize>rb << 2), work);
        topkSelect(scratch, rb, i, ie, b0, b1, elig, k, largest, vals, idx, excl, exclBase, hist);
      }
    }
  }
}
