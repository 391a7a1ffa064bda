/**
 * Resident dense top-k on 2 threads against the same engine on 1 thread: bit-identical positions
 * and values for every split (reference blocks from the shared counter, fixed splits by query or
 * reference rows in the full-row mode), with ties (small integers), filters and exclusions.
 *
 *   ./node_modules/.bin/deno test -A packages/kernels/dense_resident_test.ts
 *   ./node_modules/.bin/bun test ./packages/kernels/dense_resident_test.ts
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng, type Rng } from "@likeness/core";
import { createResidentDense, type DenseVariant, hasRelaxedSimd, hasWasmSimd, hasWasmThreads } from "@likeness/kernels";
import { topkRef } from "@likeness/kernels/reference";

const THREADS_SKIP = hasWasmThreads() ? undefined : "Worker or SharedArrayBuffer unavailable";

function ints(rng: Rng, n: number, range = 2): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.int(2 * range + 1) - range;
  return a;
}

async function parity(variant: DenseVariant): Promise<void> {
  const rng = createRng(17);
  const D = 24, R = 3001;
  const one = await createResidentDense({ dim: D, variant, threads: 1 });
  const two = await createResidentDense({ dim: D, variant, threads: 2, minParallelWork: 0 });
  try {
    assert.equal(two.info.threads, 2);
    const rows = ints(rng, R * D);
    for (const e of [one, two]) {
      e.reserve(R);
      e.rows().set(rows);
    }
    let checked = 0;
    for (const n of [1, 7, 700, R]) {
      for (const Q of [1, 3, 9, 40]) {
        const q = ints(rng, Q * D);
        const eligible = new Uint8Array(n).map((_, j) => (j % 5 === 2 ? 0 : 1));
        const exclude = new Int32Array(Q).map((_, i) => (i * 37) % n);
        for (const k of [1, 10, Math.min(n, 150)]) {
          for (const metric of ["dot", "l2", "l1"] as const) {
            for (const filtered of [false, true]) {
              const opts = {
                metric,
                k,
                rows: n,
                eligible: filtered ? eligible : null,
                exclude: filtered ? exclude : null,
              };
              const a = await one.topk(q, Q, opts);
              const b = await two.topk(q, Q, opts);
              const what = `${variant} n=${n} Q=${Q} k=${k} ${metric} filtered=${filtered}`;
              assert.deepEqual(Array.from(b.positions), Array.from(a.positions), what);
              assert.deepEqual(Array.from(b.values), Array.from(a.values), what);
              checked++;
            }
          }
        }
      }
    }
    assert.equal(checked, 4 * 4 * 3 * 3 * 2);
    // And the 1-thread engine against the float64 reference (integers: exact in float32).
    const q = ints(rng, 5 * D);
    const got = await two.topk(q, 5, { metric: "l1", k: 12, rows: R });
    const want = topkRef({ data: q, rows: 5, cols: D }, { data: rows, rows: R, cols: D }, { k: 12, metric: "l1" });
    assert.deepEqual(Array.from(got.positions), Array.from(want.indices));
  } finally {
    one.dispose();
    two.dispose();
  }
}

test("resident dense topk: scalar on 2 threads equals 1 thread", { skip: THREADS_SKIP }, () => parity("scalar"));
test(
  "resident dense topk: simd on 2 threads equals 1 thread",
  { skip: THREADS_SKIP ?? (hasWasmSimd() ? undefined : "no WebAssembly SIMD") },
  () => parity("simd"),
);
test(
  "resident dense topk: relaxed on 2 threads equals 1 thread",
  { skip: THREADS_SKIP ?? (hasRelaxedSimd() ? undefined : "no relaxed SIMD") },
  () => parity("relaxed"),
);
