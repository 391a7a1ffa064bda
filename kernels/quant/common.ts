// deno-fmt-ignore-file (AssemblyScript: deno fmt would drop the @inline decorators)
// Shared by the scalar and SIMD builds of the quantised-code kernels.

/** Code rows per block: about 48 KiB of codes, even, at least 2. */
export function scanBlockRows(stride: i32): i32 {
  return max(2, (49152 / max(1, stride)) & ~1);
}
