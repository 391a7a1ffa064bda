// deno-fmt-ignore-file (AssemblyScript: deno fmt would drop the @inline decorators)
// Matrix product, WebAssembly SIMD build: C = act(A·B + bias) for float32, any strides of A and
// B (so transposed operands need no copy), batches with broadcasting (batch stride 0).
//
// Built with `--enable simd` (multiply then add) and with `--enable relaxed-simd` too
// (`f32x4.relaxed_madd`: one FMA on V8). B is packed per (k block of KC) × (group of up to GP
// panels of NR = 8 columns), zero-padded past N, so that the panel group stays in L2 while every
// strip of A passes over it. Register tile: 6 rows × 8 columns (12 f32x4 accumulators, 15 of the 16
// xmm registers V8 allocates; a 4 × 12 tile spills and runs at half speed), per k two vector loads
// of the panel and six splat loads of A, each from its own pointer (offset 0: see tile6x8).
// A is read in place through its strides, except when A's k stride is large (A transposed with
// M ≥ 512, a dense layer's weight gradient xᵀ·dy: in place every k would touch a new page): then
// each strip of 6 rows is packed k-major first (PACK_MIN_SAK).
// Tails: M % 6 rows run the tile on a zero-padded packed strip and store only their rows when 2 or
// more, a 1 × 8 tile on A in place for one; N % 8 columns are computed on zero padding and only
// the valid columns are stored; K needs no tail (one k per step).
import {
  epilogue, NR, P_A, P_B, P_BPACKED, P_C, P_K, P_M, P_N, P_SAB, P_SAI, P_SAK, P_SBB, P_SBK, P_SBN, param,
} from "./common";

export { heapBase, units } from "./common";
import { C_OP } from "../conv/common";
import { convUnits } from "../conv/simd";

/** k block: rows of a packed panel. */
const KC: i32 = 256;
/** Panels packed together (GP · NR columns). */
const GP: i32 = 8;
/** Bytes of one packed panel row (NR floats). */
const PANEL_ROW: usize = <usize>NR << 2;
/** Rows of the register tile (one packed strip of A). */
const MR: i32 = 6;
/**
 * A's k stride (bytes) from which strips of A are packed: transposed with M ≥ 512, where the tile
 * on A in place touches a new page at every k (1024×512×512 tn, 4 × 8 tile: 28-31 GFLOP/s in place,
 * 36-43 packed); at M = 128 or 160 the tile in place is as fast.
 */
const PACK_MIN_SAK: usize = 2048;
/** Bytes of one packed strip of A (KC × MR floats). */
const STRIP_BYTES: usize = <usize>KC * <usize>MR << 2;
/** Bytes of the tile buffer used for partial stores. */
const TILE_BYTES: usize = <usize>MR * PANEL_ROW;

// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Bytes of private work memory a thread needs (packed panels, a packed strip of A, a tile buffer). */
export function workBytes(): i32 {
  return <i32>(<usize>KC * <usize>GP * PANEL_ROW + STRIP_BYTES + TILE_BYTES);
}

/**
 * Pack `rows` rows (from a, row stride sai) × kc columns (k stride sak) of A into dst, k-major:
 * dst[kk · MR + r] = A[r, kk], zeros for rows r ≥ rows.
 */
function packStrip(a: usize, sai: usize, sak: usize, rows: i32, kc: i32, dst: usize): void {
  const rowBytes = <usize>MR << 2;
  if (rows == MR && sai == 4) {
    // A transposed, a full strip: the 6 rows of one k are contiguous.
    let s = a;
    let d = dst;
    for (let kk = 0; kk < kc; kk++) {
      v128.store(d, v128.load(s));
      store<u64>(d, load<u64>(s, 16), 16);
      s += sak;
      d += rowBytes;
    }
    return;
  }
  if (sak == 4) {
    // Rows are contiguous in k (the last 2 or 3 rows of a product without transposed A): row by row.
    for (let r = 0; r < MR; r++) {
      let d = dst + (<usize>r << 2);
      if (r >= rows) {
        for (let kk = 0; kk < kc; kk++) {
          store<f32>(d, 0);
          d += rowBytes;
        }
        continue;
      }
      let s = a + <usize>r * sai;
      for (let kk = 0; kk < kc; kk++) {
        store<f32>(d, load<f32>(s));
        s += 4;
        d += rowBytes;
      }
    }
    return;
  }
  // Any other layout (A transposed: the rows of one k are contiguous): k by k.
  let s = a;
  let d = dst;
  for (let kk = 0; kk < kc; kk++) {
    let x = s;
    for (let r = 0; r < MR; r++) {
      store<f32>(d + (<usize>r << 2), r < rows ? load<f32>(x) : 0);
      x += sai;
    }
    s += sak;
    d += rowBytes;
  }
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

/**
 * MR rows of A (row r at a + r·ra, k stride ka: A in place, or a packed strip with ra = 4 and
 * ka = 24) × one packed panel (kc × 8, at bp): its MR × 8 sums stored (first) or added at c (row
 * stride ldc). Every load has offset 0 from its own pointer: on a memory the module imports, V8
 * bounds-checks each load, and loads at constant offsets from one pointer ran at 53 GFLOP/s where
 * six pointers ran at 60 (the FMA-loop peak).
 */
function tile6x8(a: usize, ra: usize, ka: usize, bp: usize, kc: i32, c: usize, ldc: usize, first: bool): void {
  let s00 = f32x4.splat(0);
  let s01 = s00;
  let s10 = s00;
  let s11 = s00;
  let s20 = s00;
  let s21 = s00;
  let s30 = s00;
  let s31 = s00;
  let s40 = s00;
  let s41 = s00;
  let s50 = s00;
  let s51 = s00;
  let a0 = a;
  let a1 = a0 + ra;
  let a2 = a1 + ra;
  let a3 = a2 + ra;
  let a4 = a3 + ra;
  let a5 = a4 + ra;
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
    x = v128.load32_splat(a4);
    s40 = madd(x, b0, s40);
    s41 = madd(x, b1, s41);
    x = v128.load32_splat(a5);
    s50 = madd(x, b0, s50);
    s51 = madd(x, b1, s51);
    a0 += ka;
    a1 += ka;
    a2 += ka;
    a3 += ka;
    a4 += ka;
    a5 += ka;
    p += PANEL_ROW;
  }
  put(c, s00, first);
  put(c + 16, s01, first);
  put(c + ldc, s10, first);
  put(c + ldc + 16, s11, first);
  put(c + 2 * ldc, s20, first);
  put(c + 2 * ldc + 16, s21, first);
  put(c + 3 * ldc, s30, first);
  put(c + 3 * ldc + 16, s31, first);
  put(c + 4 * ldc, s40, first);
  put(c + 4 * ldc + 16, s41, first);
  put(c + 5 * ldc, s50, first);
  put(c + 5 * ldc + 16, s51, first);
}

/**
 * The 6 × 8 tile for fewer than MR rows (A then a zero-padded packed strip) or fewer than NR
 * columns, through the tile buffer: `rows` rows and `valid` columns stored or added at c.
 */
function tile6x8Tail(
  a: usize, ra: usize, ka: usize, bp: usize, kc: i32, c: usize, ldc: usize, rows: i32, valid: i32, first: bool,
  tile: usize,
): void {
  tile6x8(a, ra, ka, bp, kc, tile, PANEL_ROW, true);
  flushTile(tile, rows, c, ldc, valid, first);
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
 * Pack the job's B (batch 0) at dst for P_BPACKED: every panel of NR columns with all its K rows
 * (K × NR floats per panel, zeros past column N), panel after panel.
 */
export function packB(params: usize, dst: usize): void {
  const n = param(params, P_N);
  const k = param(params, P_K);
  const b = <usize>param(params, P_B);
  const sbk = <usize>param(params, P_SBK);
  const sbn = <usize>param(params, P_SBN);
  const panels = (n + NR - 1) / NR;
  for (let p = 0; p < panels; p++) packPanel(b, sbk, sbn, 0, k, p * NR, n, dst + <usize>p * <usize>k * PANEL_ROW);
}

/**
 * Units [u0, u1) of the job at `params` (unit u: batch u / P, columns NR·(u % P) onward, P panels
 * per batch), then the epilogue over those columns. `work`: workBytes() bytes private to the thread.
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
  const ldc = <usize>n << 2;
  const packed = <usize>param(params, P_BPACKED);
  const strip = work + <usize>KC * <usize>GP * PANEL_ROW;
  const tile = strip + STRIP_BYTES;
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
      // Panel q of this group at bw + q · bStep: packed here per product, or already (P_BPACKED).
      let bw = work;
      let bStep = <usize>kc * PANEL_ROW;
      if (packed != 0) {
        bw = packed + (<usize>p0 * <usize>k + <usize>k0) * PANEL_ROW;
        bStep = <usize>k * PANEL_ROW;
      } else {
        for (let q = 0; q < g; q++) packPanel(bb, sbk, sbn, k0, kc, (p0 + q) * NR, n, work + <usize>q * bStep);
      }
      const ak = a + <usize>k0 * sak;
      const pack = sak >= PACK_MIN_SAK;
      const sRow: usize = 4;
      const sK = <usize>MR << 2;
      let i = 0;
      // Strips of MR rows: A in place, or packed k-major when its k stride is large.
      for (; i + MR <= m; i += MR) {
        let src = ak + <usize>i * sai;
        let ra = sai;
        let ka = sak;
        if (pack) {
          packStrip(src, sai, sak, MR, kc, strip);
          src = strip;
          ra = sRow;
          ka = sK;
        }
        const ci = c + <usize>i * ldc;
        for (let q = 0; q < g; q++) {
          const j0 = (p0 + q) * NR;
          const valid = min(NR, n - j0);
          const bq = bw + <usize>q * bStep;
          const cij = ci + (<usize>j0 << 2);
          if (valid == NR) tile6x8(src, ra, ka, bq, kc, cij, ldc, first);
          else tile6x8Tail(src, ra, ka, bq, kc, cij, ldc, MR, valid, first, tile);
        }
      }
      // 2..MR-1 rows left: one packed strip on zero padding.
      if (i + 1 < m) {
        const rows = m - i;
        packStrip(ak + <usize>i * sai, sai, sak, rows, kc, strip);
        const ci = c + <usize>i * ldc;
        for (let q = 0; q < g; q++) {
          const j0 = (p0 + q) * NR;
          tile6x8Tail(strip, sRow, sK, bw + <usize>q * bStep, kc, ci + (<usize>j0 << 2), ldc, rows, min(NR, n - j0), first, tile);
        }
        i = m;
      }
      // One row left: the 1 × 8 tile on A in place.
      if (i < m) {
        const ai = ak + <usize>i * sai;
        const ci = c + <usize>i * ldc;
        for (let q = 0; q < g; q++) {
          const j0 = (p0 + q) * NR;
          tile1x8(ai, sak, bw + <usize>q * bStep, kc, ci + (<usize>j0 << 2), min(NR, n - j0), first, tile);
        }
      }
    }
    epilogue(params, b, p0 * NR, min(n, (p0 + g) * NR));
    u += g;
  }
}
