/**
 * A kernel Worker that dies after start-up: real Workers, made to die through the test-only
 * `INJECT_WORKER_FAULT` hook (an uncaught error inside the Worker, a silent exit with no event, or
 * `terminate()`). The call it breaks fails with `WORKER_FAILED` in bounded time, the Workers are
 * restarted on the same shared memory, and the index answers exactly as before; the synchronous
 * matmul pool fails the product it breaks the same way. In Deno and Bun.
 *
 *   ./node_modules/.bin/deno test -A tests/worker_failure_test.ts
 *   ./node_modules/.bin/bun test ./tests/worker_failure_test.ts
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng, isLikenessError, type Matrix } from "@likeness/core";
import { createIndex, createWasmBackend, type IndexSearchResult, type VectorIndex } from "@likeness/backend";
import {
  createDenseKernels,
  createMatMulKernels,
  createResidentDense,
  hasWasmSimd,
  hasWasmThreads,
  INJECT_WORKER_FAULT,
  MAX_WORKER_RESTARTS,
  type WorkerFault,
} from "@likeness/kernels";
import { rand } from "./_conformance.ts";
import { bounded as boundedBy } from "@likeness/core/testing";

const SKIP = !hasWasmThreads()
  ? "Worker or SharedArrayBuffer unavailable"
  : !hasWasmSimd()
  ? "no WebAssembly SIMD"
  : "";
/** A dead Worker must be noticed within this long (the test fails instead of hanging). */
const BOUND_MS = 5000;

type Faulty = { [INJECT_WORKER_FAULT](how: WorkerFault, tid: number): void };

/** `p`, or a rejection "hung" after BOUND_MS. */
const bounded = <T>(p: Promise<T>): Promise<T> => boundedBy(p, BOUND_MS);

async function expectWorkerFailed(p: Promise<unknown>): Promise<void> {
  await assert.rejects(bounded(p), (e: unknown) => {
    assert.ok(isLikenessError(e), `expected a typed error, got ${e}`);
    assert.equal(e.code, "WORKER_FAILED");
    return true;
  });
}

function same(a: IndexSearchResult, b: IndexSearchResult): void {
  assert.deepEqual(Array.from(b.ids), Array.from(a.ids));
  assert.deepEqual(Array.from(b.values), Array.from(a.values));
}

/** A 2-thread index of 6,000 × 48 rows and two query sets: 16 rows (split by query) and 3 (split by reference). */
async function setUp(kind: "flat" | "int8"): Promise<{ index: VectorIndex; qs: Matrix[] }> {
  const rng = createRng(9);
  const index = await createIndex({ dim: 48, metric: "cosine", kind }, createWasmBackend({ simd: true, threads: 2 }));
  await index.add(rand(rng, 6000, 48));
  return { index, qs: [rand(rng, 16, 48), rand(rng, 3, 48)] };
}

for (const kind of ["flat", "int8"] as const) {
  for (const how of ["throw", "exit", "terminate"] as const) {
    test(
      `worker failure (${kind}, ${how}): the broken call fails with WORKER_FAILED, then the index answers as before`,
      { skip: SKIP || undefined },
      async () => {
        const { index, qs } = await setUp(kind);
        try {
          assert.match(index.info().detail, /2 threads/);
          const before = await Promise.all(qs.map((q) => index.search(q, { k: 10 })));
          const size = index.size;
          for (const [i, q] of qs.entries()) {
            // "throw": the Worker throws an uncaught error inside its next job (the search in
            // flight); "exit": it closes itself there without any event (found as a stalled job);
            // "terminate": it is gone before the search starts.
            (index as unknown as Faulty)[INJECT_WORKER_FAULT](how, 1);
            await expectWorkerFailed(index.search(q, { k: 10 }));
            // The next call waits for the restart and runs on 2 threads again, with the same data.
            same(before[i], await bounded(index.search(q, { k: 10 })));
            assert.match(index.info().detail, new RegExp(`2 threads.*Workers restarted ${i + 1}×`));
          }
          for (const [i, q] of qs.entries()) same(before[i], await index.search(q, { k: 10 }));
          assert.equal(index.size, size);
        } finally {
          index.dispose();
        }
      },
    );
  }
}

test(
  "worker failure: after MAX_WORKER_RESTARTS restarts the engine stays on one thread, with the same results",
  { skip: SKIP || undefined },
  async () => {
    const rng = createRng(3);
    const dim = 32, rows = 5000;
    const engine = await createResidentDense({ dim, variant: "simd", threads: 2 });
    try {
      engine.reserve(rows);
      engine.rows().set(rand(rng, rows, dim).data);
      const q = rand(rng, 12, dim).data;
      const opts = { metric: "dot" as const, k: 7, rows };
      const before = await engine.topk(q, 12, opts);
      assert.equal(engine.info.threads, 2);
      for (let i = 0; i < MAX_WORKER_RESTARTS; i++) {
        engine[INJECT_WORKER_FAULT]("throw", 1);
        await expectWorkerFailed(engine.topk(q, 12, opts));
        const again = await bounded(engine.topk(q, 12, opts));
        assert.deepEqual(Array.from(again.positions), Array.from(before.positions));
        assert.equal(engine.info.threads, 2);
      }
      engine[INJECT_WORKER_FAULT]("throw", 1);
      await expectWorkerFailed(engine.topk(q, 12, opts));
      assert.equal(engine.info.threads, 1);
      assert.match(
        engine.info.detail,
        new RegExp(`1 thread, .*threads stopped after ${MAX_WORKER_RESTARTS} Worker restarts`),
      );
      assert.throws(() => engine[INJECT_WORKER_FAULT]("throw", 1), RangeError);
      const after = await engine.topk(q, 12, opts);
      assert.deepEqual(Array.from(after.positions), Array.from(before.positions));
      assert.deepEqual(Array.from(after.values), Array.from(before.values));
    } finally {
      engine.dispose();
    }
  },
);

test(
  "worker failure (Backend.topk kernels): the broken call is redone on the calling thread, which they then keep",
  { skip: SKIP || undefined },
  async () => {
    const rng = createRng(4);
    const kernels = createDenseKernels({ variant: "simd", threads: 2, minParallelWork: 0 });
    try {
      const q = rand(rng, 16, 32), ref = rand(rng, 3000, 32);
      const before = await kernels.topk(q, ref, { k: 5, metric: "cosine" });
      assert.equal(kernels.info.threads, 2);
      kernels[INJECT_WORKER_FAULT]("throw", 1);
      const after = await bounded(kernels.topk(q, ref, { k: 5, metric: "cosine" }));
      assert.deepEqual(Array.from(after.indices), Array.from(before.indices));
      assert.deepEqual(Array.from(after.values), Array.from(before.values));
      assert.equal(kernels.info.threads, 1);
      assert.match(kernels.info.detail, /1 thread \(threads stopped: worker 1 died/);
      assert.throws(() => kernels[INJECT_WORKER_FAULT]("throw", 1), RangeError);
    } finally {
      kernels.dispose();
    }
  },
);

for (const how of ["throw", "exit"] as const) {
  test(
    `worker failure (matmul, ${how}): a Worker dying with a claimed chunk fails that product with WORKER_FAILED, ` +
      "then products run on one thread and on new Workers, equal to before",
    { skip: SKIP || undefined },
    async () => {
      const rng = createRng(5);
      const m = 64, k = 96, n = 256;
      const a = rand(rng, m, k).data, b = rand(rng, k, n).data;
      const spec = { m, n, k };
      const kernels = await createMatMulKernels({ variant: "simd", threads: 2, minParallelWork: 0, idleMs: Infinity });
      try {
        assert.equal(kernels.threads, 2);
        const before = kernels.matMul(a, b, spec);
        kernels[INJECT_WORKER_FAULT](how, 1);
        // Synchronous: the caller blocks in Atomics.wait, so only the stall bound can end the
        // wait; before it, this hung forever. Several products, since the Worker may claim no
        // chunk of the first one (the caller takes them all): one of them must fail.
        const t0 = performance.now();
        let failed: unknown;
        for (let i = 0; i < 50 && failed === undefined; i++) {
          try {
            assert.deepEqual(kernels.matMul(a, b, spec), before);
          } catch (e) {
            failed = e;
          }
        }
        assert.ok(isLikenessError(failed), `expected a typed error, got ${failed}`);
        assert.equal(failed.code, "WORKER_FAILED");
        assert.ok(performance.now() - t0 < BOUND_MS, `failed after ${performance.now() - t0} ms`);
        // Next product: one thread while new Workers start in the background, same values.
        assert.deepEqual(kernels.matMul(a, b, spec), before);
        const until = performance.now() + BOUND_MS;
        while (kernels.threads < 2 && performance.now() < until) await new Promise((r) => setTimeout(r, 10));
        assert.equal(kernels.threads, 2);
        assert.deepEqual(kernels.matMul(a, b, spec), before);
      } finally {
        kernels.dispose();
      }
    },
  );
}
