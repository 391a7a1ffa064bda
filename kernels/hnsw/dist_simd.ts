// deno-fmt-ignore-file (AssemblyScript: deno fmt would drop the @inline decorators)
// Distance between two stored rows, SIMD build: four f32x4 lanes (multiply then add, never the
// relaxed FMA, so that Deno and Bun build the same graph), reduced lane 0 + 1 + 2 + 3, then a
// scalar tail: the same shape as tile1x1 of ../pairwise/simd.ts. Kinds as in dist_scalar.ts.

// @ts-ignore: decorator
@inline function hsum(a: v128): f32 {
  return f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1) + f32x4.extract_lane(a, 2) +
    f32x4.extract_lane(a, 3);
}

// @ts-ignore: decorator
@inline export function distSimd(kind: i32, a: usize, b: usize, nb: usize): f32 {
  const n4 = nb & ~(<usize>15);
  let s = f32x4.splat(0);
  let k: usize = 0;
  if (kind == 0) {
    for (; k < n4; k += 16) s = f32x4.add(f32x4.mul(v128.load(a + k), v128.load(b + k)), s);
    let r = hsum(s);
    for (; k < nb; k += 4) r += load<f32>(a + k) * load<f32>(b + k);
    return -r;
  }
  if (kind == 1) {
    for (; k < n4; k += 16) {
      const t = f32x4.sub(v128.load(a + k), v128.load(b + k));
      s = f32x4.add(f32x4.mul(t, t), s);
    }
    let r = hsum(s);
    for (; k < nb; k += 4) {
      const t = load<f32>(a + k) - load<f32>(b + k);
      r += t * t;
    }
    return r;
  }
  for (; k < n4; k += 16) s = f32x4.add(s, f32x4.abs(f32x4.sub(v128.load(a + k), v128.load(b + k))));
  let r = hsum(s);
  for (; k < nb; k += 4) r += abs<f32>(load<f32>(a + k) - load<f32>(b + k));
  return r;
}
