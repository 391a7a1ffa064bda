/**
 * Resident codes on 2 threads against 1 thread with many units of the blocked split (so both
 * threads take interleaved units): identical positions, ties (few distinct values) included.
 *
 *   ./node_modules/.bin/deno test -A packages/kernels/quant_threads_test.ts
 *   ./node_modules/.bin/bun test ./packages/kernels/quant_threads_test.ts
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng } from "@likeness/core";
import { createResidentCodes, hasWasmSimd, hasWasmThreads, type ResidentCodes } from "@likeness/kernels";

const SKIP = !hasWasmThreads() ? "Worker or SharedArrayBuffer unavailable" : undefined;

for (const variant of ["scalar", "simd"] as const) {
  test(
    `quant ${variant}: 2 threads (blocked split, many units) return the positions of 1 thread`,
    { skip: SKIP ?? (variant === "simd" && !hasWasmSimd() ? "no WebAssembly SIMD" : undefined) },
    async () => {
      const rng = createRng(41);
      const dim = 128, R = 50_000;
      for (const kind of ["int8", "binary"] as const) {
        const engines: ResidentCodes[] = [];
        for (const threads of [1, 2]) {
          engines.push(await createResidentCodes({ dim, kind, variant, threads, capacity: R, minParallelWork: 0 }));
        }
        try {
          assert.equal(engines[1].info.threads, 2);
          const S = engines[0].stride;
          if (kind === "int8") {
            const codes = new Int8Array(R * S);
            for (let j = 0; j < R; j++) for (let d = 0; d < dim; d++) codes[j * S + d] = rng.int(3) - 1;
            const sq = Float32Array.from({ length: R }, () => rng.int(3));
            for (const e of engines) {
              e.codes().set(codes);
              e.norms().set(sq);
            }
          } else {
            const bits = new Uint32Array(R * (S / 4));
            for (let j = 0; j < R; j++) bits[j * (S / 4) + (j % (S / 4))] = rng.int(1 << 12);
            for (const e of engines) e.bits().set(bits);
          }
          for (const Q of [1, 2, 5]) {
            const eligible = Uint8Array.from({ length: R }, (_, j) => +(j % 7 !== 3));
            for (const m of [1, 16, 200]) {
              const got: Int32Array[] = [];
              for (const e of engines) {
                if (kind === "int8") {
                  const q = new Int16Array(Q * S);
                  for (let i = 0; i < Q * S; i++) q[i] = (i % S) < dim ? ((i * 7) % 3) - 1 : 0;
                  got.push(
                    await e.scan(q, new Float64Array(Q).fill(0.5), Q, { rows: R, m, eligible, distance: m > 1 }),
                  );
                } else {
                  const q = new Uint32Array(Q * (S / 4)).map((_, i) => (i * 2654435761) >>> 16);
                  got.push(await e.scan(q, null, Q, { rows: R, m, eligible }));
                }
              }
              assert.deepEqual(Array.from(got[1]), Array.from(got[0]), `${variant} ${kind} Q=${Q} m=${m}`);
              assert.ok(got[0].every((p) => p >= 0 && eligible[p] === 1));
            }
          }
        } finally {
          for (const e of engines) e.dispose();
        }
      }
    },
  );
}
