import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng } from "@likeness/core";
import { createResidentCodes, hasWasmSimd, KernelModule } from "./mod.ts";
import { hammingRef, int8DotRef, int8KeysRef, smallestKeysRef } from "./reference/mod.ts";
import { wasmBytes as scalarBytes } from "./generated/quant_scalar.generated.ts";
import { wasmBytes as simdBytes } from "./generated/quant_simd.generated.ts";

const LENGTHS = [1, 3, 4, 5, 15, 16, 17, 63, 64, 65, 384, 1000];
const VARIANTS = ["scalar", "simd"] as const;
type Fn = (...a: number[]) => number;

function module(variant: "scalar" | "simd"): Promise<KernelModule> {
  return KernelModule.create(
    (variant === "scalar" ? scalarBytes : simdBytes)(),
    new WebAssembly.Memory({ initial: 1 }),
  );
}

/** Random int8 codes in [-127, 127], with the extremes and zero over-represented. */
function codesOf(rng: ReturnType<typeof createRng>, n: number): number[] {
  return Array.from({ length: n }, () => {
    const u = rng.next();
    return u < 0.1 ? 127 : u < 0.2 ? -127 : u < 0.25 ? 0 : rng.int(255) - 127;
  });
}

for (const variant of VARIANTS) {
  test(`quant ${variant}: int8 dot products match the reference over every tail`, {
    skip: variant === "simd" && !hasWasmSimd() && "no WebAssembly SIMD",
  }, async () => {
    const m = await module(variant);
    const rng = createRng(91);
    for (const dim of LENGTHS) {
      const stride = (dim + 15) & ~15, rows = 7;
      const q = codesOf(rng, dim);
      const codes = new Int8Array(rows * stride);
      for (let j = 0; j < rows; j++) codes.set(codesOf(rng, dim), j * stride);
      const [rq, rc, ro] = m.layout(stride * 2, rows * stride, rows * 4);
      const q16 = new Int16Array(m.memory.buffer, rq.offset, stride);
      q16.fill(0);
      q16.set(q);
      new Int8Array(m.memory.buffer, rc.offset, rows * stride).set(codes);
      m.fn<Fn>("int8Scores")(rq.offset, rc.offset, stride, rows, ro.offset);
      const got = Array.from(m.i32(ro));
      const want = Array.from({ length: rows }, (_, j) => int8DotRef(q, codes, j * stride, dim));
      assert.deepEqual(got, want, `${variant} D=${dim}`);
    }
  });

  test(`quant ${variant}: int8 dot products at ±127 over 65,536 dimensions do not overflow`, {
    skip: variant === "simd" && !hasWasmSimd() && "no WebAssembly SIMD",
  }, async () => {
    const m = await module(variant);
    const dim = 65536, rows = 3;
    const [rq, rc, ro] = m.layout(dim * 2, rows * dim, rows * 4);
    new Int16Array(m.memory.buffer, rq.offset, dim).fill(127);
    const c = new Int8Array(m.memory.buffer, rc.offset, rows * dim);
    c.fill(127, 0, dim);
    c.fill(-127, dim, 2 * dim);
    for (let d = 0; d < dim; d++) c[2 * dim + d] = d % 2 ? 127 : -127;
    m.fn<Fn>("int8Scores")(rq.offset, rc.offset, dim, rows, ro.offset);
    assert.deepEqual(Array.from(m.i32(ro)), [127 * 127 * dim, -127 * 127 * dim, 0]);
  });

  test(`quant ${variant}: Hamming distances match the reference over every tail`, {
    skip: variant === "simd" && !hasWasmSimd() && "no WebAssembly SIMD",
  }, async () => {
    const m = await module(variant);
    const rng = createRng(92);
    for (const dim of [...LENGTHS, 65536]) {
      const stride = ((dim + 63) >>> 6) * 8, words = stride / 4, rows = 5;
      const bits = new Uint32Array((rows + 1) * words);
      for (let t = 0; t <= rows; t++) {
        for (let d = 0; d < dim; d++) {
          // Row 1 is the query's complement; row 2 equals it; the rest are random.
          const on = t === 2
            ? (bits[d >>> 5] >>> (d & 31)) & 1
            : t === 1
            ? 1 - ((bits[d >>> 5] >>> (d & 31)) & 1)
            : +(rng.next() < 0.5);
          if (on) bits[t * words + (d >>> 5)] |= 1 << (d & 31);
        }
      }
      const [rq, ro] = m.layout((rows + 1) * stride, rows * 4);
      new Uint32Array(m.memory.buffer, rq.offset, (rows + 1) * words).set(bits);
      m.fn<Fn>("hammingScores")(rq.offset, rq.offset + stride, stride, rows, ro.offset);
      const got = Array.from(m.i32(ro));
      const want = Array.from({ length: rows }, (_, j) => hammingRef(bits, 0, bits, (j + 1) * words, dim));
      assert.deepEqual(got, want, `${variant} D=${dim}`);
      assert.equal(got[0], dim);
      assert.equal(got[1], 0);
    }
  });
}

async function scanParity(variant: "scalar" | "simd", threads: number): Promise<void> {
  const rng = createRng(93 + threads);
  for (const kind of ["int8", "binary"] as const) {
    for (const dim of [1, 5, 16, 17, 65, 384]) {
      const R = 301;
      const e = await createResidentCodes({ dim, kind, variant, threads, capacity: 8, minParallelWork: 0 });
      try {
        e.reserve(R);
        const S = e.stride;
        // Few distinct values, so equal scores (ties) are common.
        const small = (n: number) => Array.from({ length: n }, () => rng.int(5) - 2);
        const rowsQ: number[][] = [];
        const sq = new Float32Array(R);
        if (kind === "int8") {
          const codes = e.codes();
          for (let j = 0; j < R; j++) {
            const c = small(dim);
            codes.set(c, j * S);
            sq[j] = rng.int(4) / 4;
          }
          e.norms().set(sq);
        } else {
          const bits = e.bits();
          for (let j = 0; j < R; j++) {
            for (let d = 0; d < dim; d++) if (rng.next() < 0.5) bits[j * (S / 4) + (d >>> 5)] |= 1 << (d & 31);
          }
        }
        for (const Q of [1, 2, 3, 6, 9]) {
          const eligible = rng.next() < 0.5 ? Uint8Array.from({ length: R }, () => +(rng.next() < 0.7)) : null;
          const count = eligible ? eligible.reduce((a, b) => a + b, 0) : R;
          for (const m of [1, 7, count]) {
            for (const mode of kind === "int8" ? [0, 1] as const : [0] as const) {
              let got: Int32Array;
              const want: number[] = [];
              if (kind === "int8") {
                const q = new Int16Array(Q * S);
                const scales = Float64Array.from({ length: Q }, () => 0.25 + rng.next());
                for (let i = 0; i < Q; i++) {
                  const row = small(dim);
                  rowsQ[i] = row;
                  q.set(row, i * S);
                }
                got = await e.scan(q, scales, Q, { rows: R, m, eligible, distance: mode === 1 });
                const codes = e.codes();
                for (let i = 0; i < Q; i++) {
                  const dots = Array.from({ length: R }, (_, j) => int8DotRef(rowsQ[i], codes, j * S, dim));
                  want.push(...smallestKeysRef(int8KeysRef(dots, scales[i], sq, mode), m, eligible));
                }
              } else {
                const W = S / 4, q = new Uint32Array(Q * W);
                for (let i = 0; i < Q; i++) {
                  for (let d = 0; d < dim; d++) if (rng.next() < 0.5) q[i * W + (d >>> 5)] |= 1 << (d & 31);
                }
                got = await e.scan(q, null, Q, { rows: R, m, eligible });
                const bits = e.bits();
                for (let i = 0; i < Q; i++) {
                  const h = Array.from({ length: R }, (_, j) => hammingRef(q, i * W, bits, j * W, dim));
                  want.push(...smallestKeysRef(h, m, eligible));
                }
              }
              assert.deepEqual(
                Array.from(got),
                want,
                `${variant} threads=${threads} ${kind} D=${dim} Q=${Q} m=${m} mode=${mode} mask=${!!eligible}`,
              );
            }
          }
        }
      } finally {
        e.dispose();
      }
    }
  }
}

for (const variant of VARIANTS) {
  for (const threads of [1, 2]) {
    test(
      `quant ${variant}: scan keeps the m best rows like the reference (${threads} thread${threads > 1 ? "s" : ""})`,
      {
        skip: variant === "simd" && !hasWasmSimd() && "no WebAssembly SIMD",
      },
      () => scanParity(variant, threads),
    );
  }
}

test("quant: growing the capacity keeps codes and norms in place", async () => {
  const e = await createResidentCodes({ dim: 20, kind: "int8", variant: "scalar", capacity: 2 });
  try {
    e.codes().set([1, 2, 3], 0);
    e.codes().set([-4], e.stride);
    e.norms().set([0.5, 0.25]);
    e.reserve(100);
    assert.ok(e.capacity >= 100);
    assert.deepEqual(Array.from(e.codes().subarray(0, 3)), [1, 2, 3]);
    assert.equal(e.codes()[e.stride], -4);
    assert.deepEqual(Array.from(e.norms().subarray(0, 3)), [0.5, 0.25, 0]);
  } finally {
    e.dispose();
  }
});
