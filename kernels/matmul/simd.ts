// deno-fmt-ignore-file (AssemblyScript: deno fmt would drop the @inline decorators)
// Matrix product, WebAssembly SIMD build: C = act(A·B + bias) for float32, any strides of A and
// B (so transposed operands need no copy), batches with broadcasting (batch stride 0).
//
// Built with `--enable simd` (multiply then add) and with `--enable relaxed-simd` too
// (`f32x4.relaxed_madd`: one FMA on V8). Outer-product register tile of 4 rows × 8 columns
// (8 f32x4 accumulators): per k, two vector loads of a packed panel of B and four splat loads of A.
// B is packed per (k block of KC) × (group of up to GP panels of NR = 8 columns), zero-padded past
// N, so that the panel group stays in L1/L2 while every 4-row strip of A passes over it.
// Tails: M % 4 rows take a 1 × 8 tile; N % 8 columns are computed on zero padding and only the
// valid columns are stored; K needs no tail (one k per step).
import {
  epilogue, NR, P_A, P_B, P_C, P_K, P_M, P_N, P_SAB, P_SAI, P_SAK, P_SBB, P_SBK, P_SBN, param,
} from "./common";

export { heapBase, units } from "./common";

/** k block: rows of a packed panel. */
const KC: i32 = 256;
/** Panels packed together (GP · NR columns). */
const GP: i32 = 8;
/** Bytes of one packed panel row (NR floats). */
const PANEL_ROW: usize = <usize>NR << 2;
/** Bytes of the tile buffer used for partial-width stores. */
const TILE_BYTES: usize = 4 * PANEL_ROW;

// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Bytes of private work memory a thread needs (packed panels and a tile buffer). */
export function workBytes(): i32 {
  return <i32>(<usize>KC * <usize>GP * PANEL_ROW + TILE_BYTES);
}

/**
 * Pack kc rows (from row k0) of columns [j0, j0 + NR) of B into dst (kc × NR floats, row-major),
 * zeros past column n.
 */
function packPanel(b: usize, sbk: usize, sbn: usize, k0: i32, kc: i32, j0: i32, n: i32, dst: usize): void {
  const valid = min(NR, n - j0);
  let src = b + <usize>k0 * sbk + <usize>j0 * sbn;
  if (valid == NR && sbn == 4) {
    for (let kk = 0; kk < kc; kk++) {
      v128.store(dst, v128.load(src));
      v128.store(dst, v128.load(src, 16), 16);
      src += sbk;
      dst += PANEL_ROW;
    }
    return;
  }
  for (let kk = 0; kk < kc; kk++) {
    let s = src;
    for (let c = 0; c < NR; c++) {
      store<f32>(dst + (<usize>c << 2), c < valid ? load<f32>(s) : 0);
      s += sbn;
    }
    src += sbk;
    dst += PANEL_ROW;
  }
}

// @ts-ignore: decorator
@inline function put(at: usize, v: v128, first: bool): void {
  v128.store(at, first ? v : f32x4.add(v128.load(at), v));
}

/** Store (first) or add rows of the tile buffer into C, `valid` columns, `rows` rows. */
function flushTile(tile: usize, rows: i32, c: usize, ldc: usize, valid: i32, first: bool): void {
  for (let r = 0; r < rows; r++) {
    const src = tile + <usize>r * PANEL_ROW;
    const dst = c + <usize>r * ldc;
    for (let j = 0; j < valid; j++) {
      const o = dst + (<usize>j << 2);
      const v = load<f32>(src + (<usize>j << 2));
      store<f32>(o, first ? v : load<f32>(o) + v);
    }
  }
}

/** 4 rows of A (from a, row stride sai, k stride sak) × one packed panel (kc × 8) into C. */
function tile4x8(
  a: usize, sai: usize, sak: usize, bp: usize, kc: i32, c: usize, ldc: usize, valid: i32, first: bool, tile: usize,
): void {
  let s00 = f32x4.splat(0);
  let s01 = s00;
  let s10 = s00;
  let s11 = s00;
  let s20 = s00;
  let s21 = s00;
  let s30 = s00;
  let s31 = s00;
  let a0 = a;
  let a1 = a + sai;
  let a2 = a1 + sai;
  let a3 = a2 + sai;
  let p = bp;
  const end = bp + <usize>kc * PANEL_ROW;
  while (p < end) {
    const b0 = v128.load(p);
    const b1 = v128.load(p, 16);
    let x = v128.load32_splat(a0);
    s00 = madd(x, b0, s00);
    s01 = madd(x, b1, s01);
    x = v128.load32_splat(a1);
    s10 = madd(x, b0, s10);
    s11 = madd(x, b1, s11);
    x = v128.load32_splat(a2);
    s20 = madd(x, b0, s20);
    s21 = madd(x, b1, s21);
    x = v128.load32_splat(a3);
    s30 = madd(x, b0, s30);
    s31 = madd(x, b1, s31);
    a0 += sak;
    a1 += sak;
    a2 += sak;
    a3 += sak;
    p += PANEL_ROW;
  }
  if (valid == NR) {
    put(c, s00, first);
    put(c + 16, s01, first);
    put(c + ldc, s10, first);
    put(c + ldc + 16, s11, first);
    put(c + 2 * ldc, s20, first);
    put(c + 2 * ldc + 16, s21, first);
    put(c + 3 * ldc, s30, first);
    put(c + 3 * ldc + 16, s31, first);
    return;
  }
  v128.store(tile, s00);
  v128.store(tile, s01, 16);
  v128.store(tile + PANEL_ROW, s10);
  v128.store(tile + PANEL_ROW, s11, 16);
  v128.store(tile + 2 * PANEL_ROW, s20);
  v128.store(tile + 2 * PANEL_ROW, s21, 16);
  v128.store(tile + 3 * PANEL_ROW, s30);
  v128.store(tile + 3 * PANEL_ROW, s31, 16);
  flushTile(tile, 4, c, ldc, valid, first);
}

/** 1 row of A × one packed panel into C. */
function tile1x8(a: usize, sak: usize, bp: usize, kc: i32, c: usize, valid: i32, first: bool, tile: usize): void {
  let s0 = f32x4.splat(0);
  let s1 = s0;
  let a0 = a;
  let p = bp;
  const end = bp + <usize>kc * PANEL_ROW;
  while (p < end) {
    const x = v128.load32_splat(a0);
    s0 = madd(x, v128.load(p), s0);
    s1 = madd(x, v128.load(p, 16), s1);
    a0 += sak;
    p += PANEL_ROW;
  }
  if (valid == NR) {
    put(c, s0, first);
    put(c + 16, s1, first);
    return;
  }
  v128.store(tile, s0);
  v128.store(tile, s1, 16);
  flushTile(tile, 1, c, 0, valid, first);
}

/**
 * Units [u0, u1) of the job at `params` (unit u: batch u / P, columns NR·(u % P) onward, P panels
 * per batch), then the epilogue over those columns. `work`: workBytes() bytes private to the thread.
 */
export function gemm(params: usize, u0: i32, u1: i32, work: usize): void {
  const m = param(params, P_M);
  const n = param(params, P_N);
  const k = param(params, P_K);
  const panels = (n + NR - 1) / NR;
  const sai = <usize>param(params, P_SAI);
  const sak = <usize>param(params, P_SAK);
  const sbk = <usize>param(params, P_SBK);
  const sbn = <usize>param(params, P_SBN);
  const ldc = <usize>n << 2;
  const tile = work + <usize>KC * <usize>GP * PANEL_ROW;
  let u = u0;
  while (u < u1) {
    const b = u / panels;
    const p0 = u % panels;
    const g = min(GP, min(panels - p0, u1 - u));
    const a = <usize>param(params, P_A) + <usize>b * <usize>param(params, P_SAB);
    const bb = <usize>param(params, P_B) + <usize>b * <usize>param(params, P_SBB);
    const c = <usize>param(params, P_C) + (<usize>b * <usize>m * <usize>n << 2);
    if (k == 0) {
      for (let i = 0; i < m; i++) memory.fill(c + <usize>i * ldc + (<usize>(p0 * NR) << 2), 0, <usize>min(n - p0 * NR, g * NR) << 2);
    }
    for (let k0 = 0; k0 < k; k0 += KC) {
      const kc = min(KC, k - k0);
      const first = k0 == 0;
      const panelBytes = <usize>kc * PANEL_ROW;
      for (let q = 0; q < g; q++) packPanel(bb, sbk, sbn, k0, kc, (p0 + q) * NR, n, work + <usize>q * panelBytes);
      const ak = a + <usize>k0 * sak;
      let i = 0;
      for (; i + 4 <= m; i += 4) {
        const ai = ak + <usize>i * sai;
        const ci = c + <usize>i * ldc;
        for (let q = 0; q < g; q++) {
          const j0 = (p0 + q) * NR;
          tile4x8(ai, sai, sak, work + <usize>q * panelBytes, kc, ci + (<usize>j0 << 2), ldc, min(NR, n - j0), first, tile);
        }
      }
      for (; i < m; i++) {
        const ai = ak + <usize>i * sai;
        const ci = c + <usize>i * ldc;
        for (let q = 0; q < g; q++) {
          const j0 = (p0 + q) * NR;
          tile1x8(ai, sak, work + <usize>q * panelBytes, kc, ci + (<usize>j0 << 2), min(NR, n - j0), first, tile);
        }
      }
    }
    epilogue(params, b, p0 * NR, min(n, (p0 + g) * NR));
    u += g;
  }
}
