// deno-fmt-ignore-file (AssemblyScript: deno fmt would drop the @inline decorators)
// Shared index arithmetic for the conv kernels (scalar and SIMD builds).

/** floor(a / b) for b > 0 and any sign of a. */
@inline export function floorDiv(a: i32, b: i32): i32 {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/** ceil(a / b) for b > 0 and any sign of a. */
@inline export function ceilDiv(a: i32, b: i32): i32 {
  return -floorDiv(-a, b);
}

/** First output column whose tap `c` lands inside the input row: ow·sw − pl + c ≥ 0. */
@inline export function firstCol(c: i32, sw: i32, pl: i32): i32 {
  return max(0, ceilDiv(pl - c, sw));
}

/** One past the last output column whose tap `c` lands inside the row: ow·sw − pl + c ≤ w − 1. */
@inline export function endCol(c: i32, sw: i32, pl: i32, w: i32, wo: i32): i32 {
  return min(wo, floorDiv(w - 1 + pl - c, sw) + 1);
}

// Conv jobs on the matmul modules' threads (packages/kernels/conv.ts, `matmul` option): the
// matmul job descriptor's block of i32 slots, with slot C_OP non-zero (a matrix product leaves it
// 0). A unit is one image, or SUM_CHUNK elements of dW; every thread runs units given by a range.
export const C_OP: i32 = 31;
/** Units of the job (what `units` returns for it). */
export const C_UNITS: i32 = 30;
/** Unit b: image b's partial of dW into C_OUT + b·kh·kw·ci·co floats (x at C_A, dy at C_B). */
export const OP_FILTER_PARTS: i32 = 1;
/** Unit u: elements [u·SUM_CHUNK, +SUM_CHUNK) of dW (C_OUT) = Σ_b partial b (C_A), in image order. */
export const OP_SUM_PARTS: i32 = 2;
/** Unit b: image b of dx (C_OUT) from dy (C_A) and the transposed taps (C_B). */
export const OP_INPUT: i32 = 3;
/** Unit b: image b of the max-pool gradient dx (C_OUT) from x (C_A) and dy (C_B); ci is the channels. */
export const OP_POOL_GRAD: i32 = 4;
export const C_A: i32 = 0;
export const C_B: i32 = 1;
export const C_OUT: i32 = 2;
/** Geometry from slot C_N on: n, h, w, ci, ho, wo, co, kh, kw, sh, sw, pt, pl. */
export const C_N: i32 = 3;
export const SUM_CHUNK: i32 = 1024;

// The job being run by this thread (wasm globals: each thread's instance has its own).
export let jA: usize = 0;
export let jB: usize = 0;
export let jOut: usize = 0;
export let jN: i32 = 0;
export let jH: i32 = 0;
export let jW: i32 = 0;
export let jCi: i32 = 0;
export let jHo: i32 = 0;
export let jWo: i32 = 0;
export let jCo: i32 = 0;
export let jKh: i32 = 0;
export let jKw: i32 = 0;
export let jSh: i32 = 0;
export let jSw: i32 = 0;
export let jPt: i32 = 0;
export let jPl: i32 = 0;

// @ts-ignore: decorator
@inline function slot(p: usize, s: i32): i32 {
  return load<i32>(p + (<usize>s << 2));
}

/** Read the conv job at `p` into the j* globals; returns its op. */
export function readConvJob(p: usize): i32 {
  jA = <usize>slot(p, C_A);
  jB = <usize>slot(p, C_B);
  jOut = <usize>slot(p, C_OUT);
  jN = slot(p, C_N);
  jH = slot(p, C_N + 1);
  jW = slot(p, C_N + 2);
  jCi = slot(p, C_N + 3);
  jHo = slot(p, C_N + 4);
  jWo = slot(p, C_N + 5);
  jCo = slot(p, C_N + 6);
  jKh = slot(p, C_N + 7);
  jKw = slot(p, C_N + 8);
  jSh = slot(p, C_N + 9);
  jSw = slot(p, C_N + 10);
  jPt = slot(p, C_N + 11);
  jPl = slot(p, C_N + 12);
  return slot(p, C_OP);
}

/**
 * Units [u0, u1) of OP_SUM_PARTS for the job read last: elements [u0·SUM_CHUNK, u1·SUM_CHUNK) of
 * dW = ((0 + part 0) + part 1) + …, the order the one-thread kernel adds the partials in.
 */
export function sumParts(u0: i32, u1: i32): void {
  const total = jKh * jKw * jCi * jCo;
  const e0 = u0 * SUM_CHUNK;
  const e1 = min(total, u1 * SUM_CHUNK);
  memory.fill(jOut + (<usize>e0 << 2), 0, <usize>(e1 - e0) << 2);
  for (let b = 0; b < jN; b++) {
    const part = jA + ((<usize>b * <usize>total) << 2);
    for (let e = e0; e < e1; e++) {
      const at = jOut + (<usize>e << 2);
      store<f32>(at, load<f32>(at) + load<f32>(part + (<usize>e << 2)));
    }
  }
}
