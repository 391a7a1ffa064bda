// deno-fmt-ignore-file (AssemblyScript: deno fmt would drop the @inline decorators)
// Distance between two int8 code rows (the graph walk of the `int8` codes option; the best
// candidates are reranked in float32 afterwards). Code rows are padded with zeros to a multiple of
// 16 bytes on both sides, so there is no tail. Kinds as in dist_scalar.ts, on codes:
// 0 −Σ aₖbₖ, 1 Σ (aₖ − bₖ)², 2 Σ |aₖ − bₖ|. Integer sums are exact (|code| ≤ 127: each of the four
// i32 lanes adds four products per 16 bytes: at most dim / 16 · 4 · 254² ≈ 1.06 · 10⁹ < 2³¹ for dim ≤ 65,536), so the scalar build sums into one
// i64 and the SIMD build into four i32 lanes, and both convert once to f32 (the same value).

// @ts-ignore: decorator
@inline export function codeDistScalar(kind: i32, a: usize, b: usize, nb: usize): f32 {
  let s: i64 = 0;
  if (kind == 0) {
    for (let k: usize = 0; k < nb; k++) s += <i64>(<i32>load<i8>(a + k) * <i32>load<i8>(b + k));
    return -<f32>s;
  }
  if (kind == 1) {
    for (let k: usize = 0; k < nb; k++) {
      const t = <i32>load<i8>(a + k) - <i32>load<i8>(b + k);
      s += <i64>(t * t);
    }
    return <f32>s;
  }
  for (let k: usize = 0; k < nb; k++) s += <i64>abs<i32>(<i32>load<i8>(a + k) - <i32>load<i8>(b + k));
  return <f32>s;
}

// @ts-ignore: decorator
@inline export function codeDistSimd(kind: i32, a: usize, b: usize, nb: usize): f32 {
  let s = i32x4.splat(0);
  for (let k: usize = 0; k < nb; k += 16) {
    const x = v128.load(a + k), y = v128.load(b + k);
    const xl = i16x8.extend_low_i8x16_s(x), xh = i16x8.extend_high_i8x16_s(x);
    const yl = i16x8.extend_low_i8x16_s(y), yh = i16x8.extend_high_i8x16_s(y);
    if (kind == 0) {
      s = i32x4.add(s, i32x4.add(i32x4.dot_i16x8_s(xl, yl), i32x4.dot_i16x8_s(xh, yh)));
    } else if (kind == 1) {
      const dl = i16x8.sub(xl, yl), dh = i16x8.sub(xh, yh);
      s = i32x4.add(s, i32x4.add(i32x4.dot_i16x8_s(dl, dl), i32x4.dot_i16x8_s(dh, dh)));
    } else {
      const dl = i16x8.abs(i16x8.sub(xl, yl)), dh = i16x8.abs(i16x8.sub(xh, yh));
      s = i32x4.add(s, i32x4.add(i32x4.extadd_pairwise_i16x8_s(dl), i32x4.extadd_pairwise_i16x8_s(dh)));
    }
  }
  const r = <i64>i32x4.extract_lane(s, 0) + <i64>i32x4.extract_lane(s, 1) + <i64>i32x4.extract_lane(s, 2) +
    <i64>i32x4.extract_lane(s, 3);
  return kind == 0 ? -<f32>r : <f32>r;
}
