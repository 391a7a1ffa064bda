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
