// deno-fmt-ignore-file (AssemblyScript: deno fmt would drop the @inline decorators)
// Quantised-code kernels, scalar build: int8 dot products with one i32 accumulator per output and
// Hamming distances with i64.popcnt. Entry point compiled by build.json (quant_scalar, quant_scalar_mt).
import { heapOffer } from "./select";

export { heapFinish, heapInit } from "./select";
export { scanBlockRows } from "./common";

function int8Block(qa: usize, qb: usize, codes: usize, stride: i32, b0: i32, b1: i32, o0: usize, o1: usize): void {
  for (let j = b0; j < b1; j++) {
    const c = codes + <usize> j * <usize> stride;
    let s0: i32 = 0, s1: i32 = 0;
    for (let d = 0; d < stride; d++) {
      const x = <i32> load<i8>(c + <usize> d);
      s0 += <i32> load<i16>(qa + (<usize> d << 1)) * x;
      s1 += <i32> load<i16>(qb + (<usize> d << 1)) * x;
    }
    store<i32>(o0 + (<usize> (j - b0) << 2), s0);
    store<i32>(o1 + (<usize> (j - b0) << 2), s1);
  }
}

function hammingBlock(qa: usize, qb: usize, bits: usize, stride: i32, b0: i32, b1: i32, o0: usize, o1: usize): void {
  for (let j = b0; j < b1; j++) {
    const r = bits + <usize> j * <usize> stride;
    let h0: i64 = 0, h1: i64 = 0;
    for (let w = 0; w < stride; w += 8) {
      const x = load<u64>(r + <usize> w);
      h0 += popcnt<i64>(x ^ load<u64>(qa + <usize> w));
      h1 += popcnt<i64>(x ^ load<u64>(qb + <usize> w));
    }
    store<i32>(o0 + (<usize> (j - b0) << 2), <i32> h0);
    store<i32>(o1 + (<usize> (j - b0) << 2), <i32> h1);
  }
}

// The scan: query rows in pairs over blocks of code rows (a block stays in cache while every
// query pair passes over it), each pair's integer scores (int8 dot products when `hamming` is 0,
// Hamming distances otherwise) handed to the per-row heaps of ./select.ts. `scratch` holds 2 × rb
// int32, private to the calling thread. Written once per build so both block kernels are direct
// calls.
function scan(
  hamming: i32, q: usize, qs: usize, codes: usize, sq: usize, stride: i32, mode: i32, j0: i32, j1: i32,
  elig: usize, m: i32, keys: usize, pos: usize, i0: i32, i1: i32, scratch: usize, rb: i32,
): void {
  const qstride = hamming ? stride : stride << 1;
  const s1 = scratch + (<usize> rb << 2);
  for (let b0 = j0; b0 < j1; b0 += rb) {
    const b1 = min(b0 + rb, j1);
    for (let i = i0; i < i1; i += 2) {
      const pair = i + 1 < i1;
      const qa = q + <usize> i * <usize> qstride, qb = pair ? qa + <usize> qstride : qa;
      if (hamming) hammingBlock(qa, qb, codes, stride, b0, b1, scratch, s1);
      else int8Block(qa, qb, codes, stride, b0, b1, scratch, s1);
      const sa = hamming ? 0.0 : load<f64>(qs + (<usize> i << 3));
      heapOffer(scratch, b1 - b0, b0, mode, sa, sq, elig, m, keys, pos, i);
      if (pair) {
        const sb = hamming ? 0.0 : load<f64>(qs + (<usize> (i + 1) << 3));
        heapOffer(s1, b1 - b0, b0, mode, sb, sq, elig, m, keys, pos, i + 1);
      }
    }
  }
}

/** int8 dot products of one query row (int16 at q) with code rows [0, n) (int8, `stride` bytes each) into out (int32). */
export function int8Scores(q: usize, codes: usize, stride: i32, n: i32, out: usize): void {
  int8Block(q, q, codes, stride, 0, n, out, out);
}

/** Hamming distances of one query row's sign bits at q with bit rows [0, n) (`stride` bytes each) into out (int32). */
export function hammingScores(q: usize, bits: usize, stride: i32, n: i32, out: usize): void {
  hammingBlock(q, q, bits, stride, 0, n, out, out);
}

/**
 * Offer int8 code rows [j0, j1) to the heaps of query rows [i0, i1). q: int16 query codes, row
 * stride 2·stride bytes; qs: float64 query scale per row; codes: int8, `stride` bytes per row
 * (dimensions padded with zeros to a multiple of 16); sq: float32 squared norm per code row;
 * mode 0 (key -(dot·qs)) or 1 (key sq - 2·dot·qs); elig: one byte per code row or 0; heaps of m
 * (keys f64, pos i32) per query row; scratch: 2 × rb int32.
 */
export function int8Scan(
  q: usize, qs: usize, codes: usize, sq: usize, stride: i32, mode: i32, j0: i32, j1: i32,
  elig: usize, m: i32, keys: usize, pos: usize, i0: i32, i1: i32, scratch: usize, rb: i32,
): void {
  scan(0, q, qs, codes, sq, stride, mode, j0, j1, elig, m, keys, pos, i0, i1, scratch, rb);
}

/**
 * Offer bit rows [j0, j1) to the heaps of query rows [i0, i1) by Hamming distance; same
 * arguments as `int8Scan` (qs, sq and mode unused; q has the bit rows' `stride`, a multiple of 8).
 */
export function hammingScan(
  q: usize, qs: usize, bits: usize, sq: usize, stride: i32, mode: i32, j0: i32, j1: i32,
  elig: usize, m: i32, keys: usize, pos: usize, i0: i32, i1: i32, scratch: usize, rb: i32,
): void {
  scan(1, q, qs, bits, sq, stride, 2, j0, j1, elig, m, keys, pos, i0, i1, scratch, rb);
}
