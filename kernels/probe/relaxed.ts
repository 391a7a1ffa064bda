// Feature probe for relaxed SIMD (f32x4.relaxed_madd).
export function probe(): f32 {
  const a = f32x4.splat(2.0);
  return f32x4.extract_lane(f32x4.relaxed_madd(a, a, a), 0);
}
