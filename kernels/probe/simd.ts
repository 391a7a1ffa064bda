// Feature probe: a tiny module that uses one v128 instruction. If it validates, the
// runtime supports WebAssembly SIMD.
export function probe(): i32 {
  const v = i32x4.splat(1);
  return i32x4.extract_lane(i32x4.add(v, v), 0);
}
