// deno-fmt-ignore-file (AssemblyScript: deno fmt would drop the @inline decorators)
// Bounded top-k selection shared by the scalar and SIMD builds.
//
// Each query row owns a sorted list of k (key, index) pairs in linear memory, best (smallest
// key) first. Keys are the metric values, negated when the largest values are wanted, so the
// list always keeps the k smallest keys. A candidate enters only when its key is strictly
// smaller than the current k-th key and is inserted after equal keys: references are visited
// in increasing index order, so ties go to the lower index.

/** Fill rows [i0, i1) of the k-lists with (+Infinity, -1). */
export function topkInit(vals: usize, idx: usize, k: i32, i0: i32, i1: i32): void {
  const kb = <usize> k << 2;
  for (let i = i0; i < i1; i++) {
    const v = vals + <usize> i * kb;
    const x = idx + <usize> i * kb;
    for (let t: usize = 0; t < kb; t += 4) {
      store<f32>(v + t, Infinity);
      store<i32>(x + t, -1);
    }
  }
}

/**
 * Merge a block of computed values into the k-lists. `block` holds rows [i0, i1) of values for
 * references [j0, j1) with row stride `ldb` floats. `elig` (0 = everyone) is one byte per
 * reference, non-zero when eligible.
 */
export function topkSelect(
  block: usize,
  ldb: i32,
  i0: i32,
  i1: i32,
  j0: i32,
  j1: i32,
  elig: usize,
  k: i32,
  largest: i32,
  vals: usize,
  idx: usize,
): void {
  const kb = <usize> k << 2;
  const sign: f32 = largest ? -1 : 1;
  for (let i = i0; i < i1; i++) {
    const v = vals + <usize> i * kb;
    const x = idx + <usize> i * kb;
    const row = block + <usize> (i - i0) * (<usize> ldb << 2);
    let worst = load<f32>(v + kb - 4);
    for (let j = j0; j < j1; j++) {
      const key = sign * load<f32>(row + (<usize> (j - j0) << 2));
      if (key < worst) {
        if (elig != 0 && load<u8>(elig + <usize> j) == 0) continue;
        // Shift worse entries down by one and insert after any equal keys.
        let p = kb - 4;
        while (p > 0) {
          const prev = load<f32>(v + p - 4);
          if (prev <= key) break;
          store<f32>(v + p, prev);
          store<i32>(x + p, load<i32>(x + p - 4));
          p -= 4;
        }
        store<f32>(v + p, key);
        store<i32>(x + p, j);
        worst = load<f32>(v + kb - 4);
      }
    }
  }
}
