import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng, ShapeError, ValueError } from "@likeness/core";
import { assertClose } from "@likeness/core/testing";
import {
  createMatMulKernels,
  hasRelaxedSimd,
  hasWasmSimd,
  hasWasmThreads,
  MATMUL_RESIDENT_AFTER,
  MATMUL_RESIDENT_BYTES,
  MATMUL_WARM_PRODUCTS,
  type MatMulSpec,
  type MatMulVariant,
} from "@likeness/kernels";
import { matMulReference } from "@likeness/kernels/reference";

const VARIANTS: MatMulVariant[] = [
  "scalar",
  ...(hasWasmSimd() ? ["simd" as const] : []),
  ...(hasRelaxedSimd() ? ["relaxed" as const] : []),
];

function uniform(seed: number, n: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => rng.next() * 2 - 1);
}

/**
 * Sizes that hit every tail: M % 6 from 0 to 5 (6-row tile; a strip of 2..5 rows on zero padding, a
 * last single row on the 1-row tile), N % 8 (8-column panel), K at and past one 256 block.
 */
const SIZES: [number, number, number][] = [
  [1, 1, 1],
  [2, 3, 5],
  [7, 9, 31],
  [8, 24, 513],
  [13, 8, 256],
  [12, 7, 2],
  [3, 5, 4],
  [4, 8, 15],
  [5, 16, 17],
  [15, 17, 3],
  [16, 63, 64],
  [17, 65, 65],
  [6, 9, 257],
  [65, 72, 300],
];

function check(v: MatMulVariant, got: Float32Array, a: Float32Array, b: Float32Array, spec: MatMulSpec): void {
  const want = matMulReference(a, b, spec);
  // float32 accumulation over k terms of |x| ≤ 1: relative 1e-5 plus an absolute term growing with √k.
  assertClose(got, want, {
    rtol: 1e-5,
    atol: 2e-6 * Math.sqrt(spec.k) + 1e-6,
    what: `${v} ${JSON.stringify({ ...spec, bias: undefined, prelu: undefined })}`,
  });
}

test("matmul: every variant matches the float64 reference over all tails and transposes", async () => {
  for (const v of VARIANTS) {
    const k = await createMatMulKernels({ variant: v });
    let seed = 1;
    for (const [m, n, kk] of SIZES) {
      for (const transposeA of [false, true]) {
        for (const transposeB of [false, true]) {
          const a = uniform(seed++, m * kk);
          const b = uniform(seed++, kk * n);
          const spec = { m, n, k: kk, transposeA, transposeB };
          check(v, k.matMul(a, b, spec), a, b, spec);
        }
      }
    }
    k.dispose();
  }
});

test("matmul: transposed A with M ≥ 512 (packed strips of A) matches the reference over every M % 6 tail", async () => {
  for (const v of VARIANTS) {
    const k = await createMatMulKernels({ variant: v });
    let seed = 500;
    for (const [m, n, kk] of [[512, 9, 257], [513, 17, 5], [515, 8, 300], [517, 3, 31], [522, 16, 2]]) {
      for (const transposeB of [false, true]) {
        const a = uniform(seed++, m * kk);
        const b = uniform(seed++, kk * n);
        const spec = {
          m,
          n,
          k: kk,
          transposeA: true,
          transposeB,
          bias: uniform(seed++, n),
          activation: "relu" as const,
        };
        check(v, k.matMul(a, b, spec), a, b, spec);
      }
    }
    k.dispose();
  }
});

test("matmul: batches with broadcasting, bias and every fused activation", async () => {
  const acts = ["linear", "relu", "relu6", "leakyrelu", "prelu", "sigmoid", "elu"] as const;
  for (const v of VARIANTS) {
    const k = await createMatMulKernels({ variant: v });
    let seed = 100;
    for (const activation of acts) {
      for (const [batchA, batchB] of [[3, 3], [1, 3], [3, 1]]) {
        const [m, n, kk] = [7, 11, 9];
        const a = uniform(seed++, batchA * m * kk).map((x) => x * 3);
        const b = uniform(seed++, batchB * kk * n);
        const spec: MatMulSpec = {
          m,
          n,
          k: kk,
          batch: 3,
          batchA,
          batchB,
          transposeB: batchB === 1,
          bias: seed % 2 ? uniform(seed, n) : [0.5],
          activation,
          leakyreluAlpha: 0.3,
          prelu: activation === "prelu" ? uniform(seed + 1, n) : undefined,
        };
        check(v, k.matMul(a, b, spec), a, b, spec);
      }
    }
    k.dispose();
  }
});

test("matmul: two threads give the same result as one, on shapes split across workers", async () => {
  const v = VARIANTS[VARIANTS.length - 1];
  const one = await createMatMulKernels({ variant: v });
  const two = await createMatMulKernels({ variant: v, threads: 2, minParallelWork: 0 });
  for (const [m, n, kk] of [[33, 130, 70], [9, 7, 5], [64, 264, 300]]) {
    const a = uniform(m, m * kk);
    const b = uniform(n, kk * n);
    const spec = { m, n, k: kk, bias: uniform(kk, n), activation: "relu" as const };
    assert.deepEqual(two.matMul(a, b, spec), one.matMul(a, b, spec));
  }
  assert.ok(two.threads >= 1);
  one.dispose();
  two.dispose();
});

test(
  "matmul: threadsWarm turns true after MATMUL_WARM_PRODUCTS products on the Workers, and false again when they stop",
  {
    skip: !hasWasmThreads() && "no Worker / SharedArrayBuffer",
  },
  async () => {
    const k = await createMatMulKernels({ threads: 2, minParallelWork: 0, idleMs: 150 });
    try {
      assert.equal(k.threads, 2);
      assert.equal(k.threadsWarm, false);
      const a = uniform(1, 16 * 24);
      const b = uniform(2, 24 * 40);
      for (let i = 0; i < MATMUL_WARM_PRODUCTS; i++) {
        assert.equal(k.threadsWarm, false, `after ${i} products`);
        k.matMul(a, b, { m: 16, n: 40, k: 24 });
      }
      assert.equal(k.threadsWarm, true);
      // Idle past idleMs: the Workers stop; new ones start cold.
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(k.threads, 1);
      assert.equal(k.threadsWarm, false);
      k.startThreads();
      for (let i = 0; i < 50 && k.threads === 1; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(k.threads, 2);
      assert.equal(k.threadsWarm, false);
    } finally {
      k.dispose();
    }
  },
);

test("matmul: a B given a key is kept from its third product (packed in the SIMD builds), and dropped past the byte bound", async () => {
  const runs = VARIANTS.flatMap((v) => (hasWasmThreads() ? [1, 2] : [1]).map((t) => [v, t] as const));
  for (const [v, t] of runs) {
    const k = await createMatMulKernels({ variant: v, threads: t, minParallelWork: 0 });
    const [m, n, kk] = [7, 20, 33];
    const key = {};
    const b = uniform(1, kk * n);
    const other = uniform(2, kk * n);
    const a = uniform(3, m * kk);
    const spec = (bKey?: object): MatMulSpec => ({ m, n, k: kk, transposeB: true, bKey });
    const plain = k.matMul(a, b, spec());
    const withOther = k.matMul(a, other, spec());
    // Until the key is due, each product copies the B it is given.
    for (let i = 0; i < MATMUL_RESIDENT_AFTER; i++) {
      assert.deepEqual(k.matMul(a, i ? other : b, spec(key)), i ? withOther : plain);
    }
    // Due: this product keeps its B ...
    assert.deepEqual(k.matMul(a, b, spec(key)), plain, `${v}, ${t} thread(s): the kept product`);
    // ... and later ones read the kept B, whatever array comes with the key (the key promised the same values).
    assert.deepEqual(k.matMul(a, other, spec(key)), plain, `${v}, ${t} thread(s): B read from the kept copy`);
    // Products around it, of other sizes and without keys, do not disturb the kept B.
    const a2 = uniform(4, 40 * 50);
    const b2 = uniform(5, 50 * 30);
    check(v, k.matMul(a2, b2, { m: 40, n: 30, k: 50 }), a2, b2, { m: 40, n: 30, k: 50 });
    assert.deepEqual(k.matMul(uniform(3, m * kk), b, spec(key)), plain);
    // The same key in another product (B not transposed, or another N) is not the kept B: copied per product.
    const plainB = { m, n: kk, k: n };
    check(v, k.matMul(a.subarray(0, m * n), b, { ...plainB, bKey: key }), a.subarray(0, m * n), b, plainB);
    const short = uniform(6, kk * (n - 1));
    const s = { m, n: n - 1, k: kk, transposeB: true };
    check(v, k.matMul(a, short, { ...s, bKey: key }), a, short, s);
    // Keys whose Bs pass the byte bound: all kept ones are dropped and keeping starts over, still right.
    const big = Math.ceil(MATMUL_RESIDENT_BYTES / 4 / 3.5); // floats: four of them pass the bound
    const rows = 2;
    const cols = Math.ceil(big / 64);
    const bigA = uniform(7, rows * 64);
    const keys = [{}, {}, {}, {}, {}];
    const bigBs = keys.map((_, i) => uniform(10 + i, 64 * cols));
    for (let round = 0; round <= MATMUL_RESIDENT_AFTER + 1; round++) {
      keys.forEach((bk, i) => {
        const sp = { m: rows, n: cols, k: 64, bKey: bk };
        const got = k.matMul(bigA, bigBs[i], sp);
        const want = k.matMul(bigA, bigBs[i], { m: rows, n: cols, k: 64 });
        assert.ok(got.every((v, j) => v === want[j]), `${v}, ${t} thread(s): big B ${i}, round ${round}`);
      });
    }
    // The first key's B was dropped: the array given is read again.
    assert.deepEqual(k.matMul(a, other, spec(key)), withOther, `${v}, ${t} thread(s): dropped, copied again`);
    k.dispose();
  }
});

test("matmul: k = 0 gives the bias; empty outputs are empty", async () => {
  const k = await createMatMulKernels();
  assert.deepEqual([...k.matMul(new Float32Array(0), new Float32Array(0), { m: 2, n: 3, k: 0, bias: [1, 2, 3] })], [
    1,
    2,
    3,
    1,
    2,
    3,
  ]);
  assert.equal(k.matMul(new Float32Array(0), new Float32Array(6), { m: 0, n: 3, k: 2 }).length, 0);
  k.dispose();
});

test("matmul: rejects wrong lengths, sizes, batches and names", async () => {
  const k = await createMatMulKernels({ variant: "scalar" });
  const a = new Float32Array(6);
  assert.throws(() => k.matMul(a, new Float32Array(5), { m: 2, n: 2, k: 3 }), ShapeError);
  assert.throws(() => k.matMul(a, new Float32Array(6), { m: 2, n: 2, k: 3, bias: [1, 2, 3] }), ShapeError);
  assert.throws(() => k.matMul(a, new Float32Array(6), { m: 2.5, n: 2, k: 3 }), ValueError);
  assert.throws(() => k.matMul(a, new Float32Array(6), { m: 1, n: 1, k: 3, batch: 2, batchA: 3 }), ValueError);
  assert.throws(
    () => k.matMul(a, new Float32Array(6), { m: 2, n: 2, k: 3, activation: "tanh" as "relu" }),
    (e: ValueError) => e.code === "UNKNOWN_NAME",
  );
  await assert.rejects(createMatMulKernels({ threads: 0 }), ValueError);
  await assert.rejects(createMatMulKernels({ variant: "gpu" as "simd" }), ValueError);
  k.dispose();
  assert.throws(() => k.matMul(a, new Float32Array(6), { m: 2, n: 2, k: 3 }), ValueError);
});
