// deno-fmt-ignore-file (AssemblyScript: deno fmt would drop the @inline decorators)
// Shared by the scalar and SIMD matmul builds: the job descriptor and the epilogue
// (bias, activation). See README.md for the memory contract.
import { C_OP, C_UNITS } from "../conv/common";

// Job descriptor: i32 slots at `params` (byte offset), written by JS before every call.
// Strides are in bytes; a batch stride of 0 broadcasts that operand over the batch.
export const P_A: i32 = 0;       // A base
export const P_SAI: i32 = 1;     // A: bytes between rows i
export const P_SAK: i32 = 2;     // A: bytes between columns k
export const P_SAB: i32 = 3;     // A: bytes between batches
export const P_B: i32 = 4;       // B base
export const P_SBK: i32 = 5;     // B: bytes between rows k
export const P_SBN: i32 = 6;     // B: bytes between columns n
export const P_SBB: i32 = 7;     // B: bytes between batches
export const P_C: i32 = 8;       // C base (row-major, M × N per batch, dense)
export const P_M: i32 = 9;
export const P_N: i32 = 10;
export const P_K: i32 = 11;
export const P_BIAS: i32 = 12;   // bias base (0: none); N floats, or 1 float when P_BIAS_N = 1
export const P_BIAS_N: i32 = 13; // bias length (N or 1)
export const P_ACT: i32 = 14;    // activation code (ACT_*)
export const P_ALPHA: i32 = 15;  // f32 bits: leaky-relu slope
export const P_PRELU: i32 = 16;  // prelu slopes base (N floats, or 1 when P_PRELU_N = 1)
export const P_PRELU_N: i32 = 17;
export const P_BATCH: i32 = 18;  // batch count
// SIMD builds: B already packed by packB (0: pack B's panels per product). Panel p's rows k0.. are
// at P_BPACKED + (p · K + k0) · NR floats; B's batch stride must be 0 (one B for every batch).
export const P_BPACKED: i32 = 19;

export const ACT_LINEAR: i32 = 0;
export const ACT_RELU: i32 = 1;
export const ACT_RELU6: i32 = 2;
export const ACT_LEAKY: i32 = 3;
export const ACT_PRELU: i32 = 4;
export const ACT_SIGMOID: i32 = 5;
export const ACT_ELU: i32 = 6;

/** Columns per unit of work (one packed panel of B in the SIMD build). */
export const NR: i32 = 8;

// @ts-ignore: decorator
@inline export function param(p: usize, slot: i32): i32 {
  return load<i32>(p + (<usize>slot << 2));
}

/**
 * e^x in float32 without a lookup table (AssemblyScript's `Mathf.exp` reads one from the module's
 * data segment, and a module with data cannot be instantiated on a foreign heap: its segment would
 * overwrite the host's memory). musl's expf: x = k·ln2 + r with ln2 split in two parts,
 * e^r = 1 + r + r·c / (2 − c) with c = r − r²·(P1 + r²·P2), then scaled by 2^k (in float64, where
 * 2^k is exact for the whole float32 range).
 */
function expf(x: f32): f32 {
  if (x != x) return x;
  if (x > 88.72284) return Infinity;
  if (x < -103.97208) return 0;
  const k = nearest<f32>(x * reinterpret<f32>(0x3FB8AA3B)); // 1/ln2
  const hi = x - k * reinterpret<f32>(0x3F317200); // ln2 high part
  const lo = k * reinterpret<f32>(0x35BFBE8E); // ln2 low part
  const r = hi - lo;
  const rr = r * r;
  const c = r - rr * (reinterpret<f32>(0x3E2AAA8F) + rr * reinterpret<f32>(0xBB355215));
  const y: f32 = 1 + (r * c / (2 - c) - lo + hi);
  return <f32>(<f64>y * reinterpret<f64>(<i64>(<i32>k + 1023) << 52));
}

// @ts-ignore: decorator
@inline function activate(act: i32, x: f32, alpha: f32): f32 {
  if (act == ACT_RELU) return x > 0 ? x : 0;
  if (act == ACT_RELU6) return x < 0 ? 0 : x > 6 ? 6 : x;
  if (act == ACT_LEAKY || act == ACT_PRELU) return x < 0 ? alpha * x : x;
  if (act == ACT_SIGMOID) return 1 / (1 + expf(-x));
  if (act == ACT_ELU) return x >= 0 ? x : expf(x) - 1;
  return x;
}

/**
 * Bias then activation over columns [j0, j1) of every row of batch `b`'s output:
 * C[i, j] = act(C[i, j] + bias[j]).
 */
export function epilogue(p: usize, b: i32, j0: i32, j1: i32): void {
  const bias = <usize>param(p, P_BIAS);
  const act = param(p, P_ACT);
  if (bias == 0 && act == ACT_LINEAR) return;
  const m = param(p, P_M);
  const n = param(p, P_N);
  const biasOne = param(p, P_BIAS_N) == 1;
  const prelu = <usize>param(p, P_PRELU);
  const preluOne = param(p, P_PRELU_N) == 1;
  const alpha = reinterpret<f32>(param(p, P_ALPHA));
  const c = <usize>param(p, P_C) + (<usize>b * <usize>m * <usize>n << 2);
  for (let i = 0; i < m; i++) {
    const row = c + (<usize>i * <usize>n << 2);
    for (let j = j0; j < j1; j++) {
      const at = row + (<usize>j << 2);
      let x = load<f32>(at);
      if (bias) x += load<f32>(bias + (biasOne ? 0 : <usize>j << 2));
      let a = alpha;
      if (act == ACT_PRELU) a = load<f32>(prelu + (preluOne ? 0 : <usize>j << 2));
      store<f32>(at, activate(act, x, a));
    }
  }
}

/** Units of work of a job: batch × ceil(N / NR) column panels (a conv job: its own count). */
export function units(p: usize): i32 {
  if (param(p, C_OP) != 0) return param(p, C_UNITS);
  const n = param(p, P_N);
  return param(p, P_BATCH) * ((n + NR - 1) / NR);
}

/** First byte above the module's static data (none: see expf): JS lays out its buffers from here. */
export function heapBase(): usize {
  return __heap_base;
}
