// deno-fmt-ignore-file (AssemblyScript: deno fmt would drop the @inline decorators)
// Matrix product, scalar build (no SIMD): C = act(A·B + bias), one f32 accumulator per output,
// k in index order. Same exports and memory contract as simd.ts (see README.md).
import {
  epilogue, NR, P_A, P_B, P_C, P_K, P_M, P_N, P_SAB, P_SAI, P_SAK, P_SBB, P_SBK, P_SBN, param,
} from "./common";

export { heapBase, units } from "./common";
import { C_OP } from "../conv/common";
import { convUnits } from "../conv/scalar";

/** Bytes of private work memory a thread needs (none in this build). */
export function workBytes(): i32 {
  return 0;
}

/**
 * Units [u0, u1) of the job at `params` (unit u: batch u / P, columns NR·(u % P) onward, P panels
 * per batch). `work` is unused here.
 */
export function gemm(params: usize, u0: i32, u1: i32, work: usize): void {
  // A conv job (the conv-gradient kernels on these threads): same descriptor block, C_OP set.
  if (param(params, C_OP) != 0) {
    convUnits(params, u0, u1);
    return;
  }
  const m = param(params, P_M);
  const n = param(params, P_N);
  const k = param(params, P_K);
  const panels = (n + NR - 1) / NR;
  const sai = <usize>param(params, P_SAI);
  const sak = <usize>param(params, P_SAK);
  const sbk = <usize>param(params, P_SBK);
  const sbn = <usize>param(params, P_SBN);
  for (let u = u0; u < u1; u++) {
    const b = u / panels;
    const j0 = (u % panels) * NR;
    const j1 = min(n, j0 + NR);
    const a = <usize>param(params, P_A) + <usize>b * <usize>param(params, P_SAB);
    const bb = <usize>param(params, P_B) + <usize>b * <usize>param(params, P_SBB);
    const c = <usize>param(params, P_C) + (<usize>b * <usize>m * <usize>n << 2);
    for (let i = 0; i < m; i++) {
      const ai = a + <usize>i * sai;
      const ci = c + (<usize>i * <usize>n << 2);
      for (let j = j0; j < j1; j++) {
        let s: f32 = 0;
        const bj = bb + <usize>j * sbn;
        for (let kk = 0; kk < k; kk++) s += load<f32>(ai + <usize>kk * sak) * load<f32>(bj + <usize>kk * sbk);
        store<f32>(ci + (<usize>j << 2), s);
      }
    }
    epilogue(params, b, j0, j1);
  }
}



