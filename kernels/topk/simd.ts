// deno-fmt-ignore-file (AssemblyScript: deno fmt would drop the @inline decorators)
// Dense kernel module (simd build): pairwise, norms and normalisation from ../pairwise/simd.ts plus
// exact top-k streamed over reference blocks. Entry point compiled by build.json.
import { blockPair, packBlock } from "../pairwise/simd";
import { topkFinish, topkInit, topkSelect } from "./select";

export { blockPair, blockRows, normalize, norms, packBlock, pairwise, pairwiseRange, workBytes } from "../pairwise/simd";
export { topkFinish, topkInit, topkSelect } from "./select";
export { fmaPeak } from "../pairwise/peak";

/**
 * Top-k for query rows [i0, i1) against all nr references, in blocks of `rb` references.
 * `scratch` holds 2 × rb floats then `workBytes(d)` bytes (private to the calling thread). Lists at vals/idx (k per row).
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
): void {
  topkInit(vals, idx, k, i0, i1);
  const work = scratch + (<usize>rb << 3);
  // Query rows go in groups whose heaps (8·k bytes each) fit in about 512 KiB of cache, so a
  // large k does not evict every heap at each reference block; small k gives one group.
  const group = max(2, (524288 / (k << 3)) & ~1);
  for (let g0 = i0; g0 < i1; g0 += group) {
    const g1 = min(g0 + group, i1);
    for (let b0 = 0; b0 < nr; b0 += rb) {
      const b1 = min(b0 + rb, nr);
      packBlock(r, d, b0, b1, work);
      for (let i = g0; i < g1; i += 2) {
        const ie = min(i + 2, g1);
        blockPair(q, r, d, metric, qinv, rinv, i, ie - i == 2 ? 1 : 0, b0, b1, scratch, scratch + (<usize>rb << 2), work);
        topkSelect(scratch, rb, i, ie, b0, b1, elig, k, largest, vals, idx);
      }
    }
  }
  topkFinish(vals, idx, k, i0, i1);
}
