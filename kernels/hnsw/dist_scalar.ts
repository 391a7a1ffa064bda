// deno-fmt-ignore-file (AssemblyScript: deno fmt would drop the @inline decorators)
// Distance between two stored rows, scalar build: one f32 accumulator in index order, the same
// order as tile1x1 of ../pairwise/scalar.ts (and as the plain-TS reference hnswRef, which is
// bit-identical to this build). Kinds: 0 negated dot product (dot, cosine on unit rows),
// 1 squared differences (l2, sqeuclidean), 2 absolute differences (l1). Smaller is closer.

// @ts-ignore: decorator
@inline export function distScalar(kind: i32, a: usize, b: usize, nb: usize): f32 {
  let s: f32 = 0;
  if (kind == 0) {
    for (let k: usize = 0; k < nb; k += 4) s += load<f32>(a + k) * load<f32>(b + k);
    return -s;
  }
  if (kind == 1) {
    for (let k: usize = 0; k < nb; k += 4) {
      const t = load<f32>(a + k) - load<f32>(b + k);
      s += t * t;
    }
    return s;
  }
  for (let k: usize = 0; k < nb; k += 4) s += abs<f32>(load<f32>(a + k) - load<f32>(b + k));
  return s;
}
