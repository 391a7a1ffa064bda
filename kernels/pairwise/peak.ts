// deno-fmt-ignore-file (AssemblyScript: deno fmt would drop the @inline decorators)
// WebAssembly FMA peak: a tight loop of independent f32x4 multiply-adds with no memory
// traffic, the yardstick the benchmark divides by. `a` and `b` come in as parameters so that
// V8 cannot fold them into `v128.const` operands reloaded inside the loop.

// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/**
 * Run `iters` iterations of 12 independent chains s = s·a + b on f32x4 (96 flops per iteration;
 * each chain depends on itself, so nothing can be hoisted). Use a < 1 (e.g. 0.999, b = 0.001)
 * to stay away from overflow and subnormals. Returns a checksum.
 */
export function fmaPeak(iters: i32, a: f32, b: f32): f32 {
  const x = f32x4.splat(a);
  const y = f32x4.splat(b);
  let s0 = f32x4.splat(0);
  let s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0;
  let s6 = s0, s7 = s0, s8 = s0, s9 = s0, s10 = s0, s11 = s0;
  for (let i = 0; i < iters; i++) {
    s0 = madd(s0, x, y);
    s1 = madd(s1, x, y);
    s2 = madd(s2, x, y);
    s3 = madd(s3, x, y);
    s4 = madd(s4, x, y);
    s5 = madd(s5, x, y);
    s6 = madd(s6, x, y);
    s7 = madd(s7, x, y);
    s8 = madd(s8, x, y);
    s9 = madd(s9, x, y);
    s10 = madd(s10, x, y);
    s11 = madd(s11, x, y);
  }
  const t = f32x4.add(
    f32x4.add(f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3)), f32x4.add(f32x4.add(s4, s5), f32x4.add(s6, s7))),
    f32x4.add(f32x4.add(s8, s9), f32x4.add(s10, s11)),
  );
  return f32x4.extract_lane(t, 0) + f32x4.extract_lane(t, 3);
}
