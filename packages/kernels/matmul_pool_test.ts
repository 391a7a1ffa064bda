import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng } from "@likeness/core";
import { createMatMulKernels, hasWasmSimd, hasWasmThreads } from "@likeness/kernels";
import { chunking, claimChunk } from "./_matmul_pool.ts";
import { startWorkers } from "./_worker_pool.ts";

function uniform(seed: number, n: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => rng.next() * 2 - 1);
}

test("matmul pool: chunking gives about four chunks a thread, at most 8 units each, covering every unit", () => {
  assert.deepEqual(chunking(1, 2), [1, 1]);
  assert.deepEqual(chunking(7, 2), [1, 7]);
  assert.deepEqual(chunking(32, 2), [4, 8]);
  assert.deepEqual(chunking(1000, 2), [8, 125]);
  // More than 4096 chunks of 8: chunks grow so the claim word can count them.
  const [chunk, chunks] = chunking(100_000, 2);
  assert.equal(chunk, 32);
  assert.equal(chunks, 3125);
  for (const [units, threads] of [[1, 1], [5, 3], [33, 2], [257, 4], [100_000, 2]]) {
    const [c, n] = chunking(units, threads);
    assert.ok(c >= 1 && n * c >= units && (n - 1) * c < units, `${units} units on ${threads} threads`);
  }
});

test("matmul pool: a claim takes each chunk of its job once and none of another job's", () => {
  const ctl = new Int32Array(new SharedArrayBuffer(16 * 4));
  const bits = 12;
  Atomics.store(ctl, 2, 5 << bits);
  assert.deepEqual([0, 1, 2, 3].map(() => claimChunk(ctl, 2, bits, 5, 3)), [0, 1, 2, -1]);
  // A thread still holding job 5's tag claims nothing from job 6.
  Atomics.store(ctl, 2, 6 << bits);
  assert.equal(claimChunk(ctl, 2, bits, 5, 3), -1);
  assert.equal(Atomics.load(ctl, 2), 6 << bits);
  assert.equal(claimChunk(ctl, 2, bits, 6, 3), 0);
});

test("worker pools hand each Worker the kernel compiled once, as a WebAssembly.Module", async (t) => {
  if (typeof (globalThis as { Worker?: unknown }).Worker !== "function") return t.skip("no Worker");
  // The smallest module that exports a function: (func (export "f") (result i32) i32.const 7).
  const bytes = new Uint8Array([
    0,
    97,
    115,
    109,
    1,
    0,
    0,
    0,
    1,
    5,
    1,
    96,
    0,
    1,
    127,
    3,
    2,
    1,
    0,
    7,
    5,
    1,
    1,
    102,
    0,
    0,
    10,
    6,
    1,
    4,
    0,
    65,
    7,
    11,
  ]);
  const got: unknown[] = [];
  // Ready only when the message carries a Module that instantiates to the export.
  const source = `onmessage = async (e) => {
    const ok = e.data.module instanceof WebAssembly.Module &&
      (await WebAssembly.instantiate(e.data.module, {})).exports.f() === 7;
    postMessage(ok ? { ready: true } : { error: "no module" });
  };`;
  const workers = await startWorkers(source, 3, bytes, (tid, module) => {
    got.push(module);
    return { tid, module };
  }, "test");
  try {
    assert.equal(workers.length, 2);
    assert.ok(got[0] instanceof WebAssembly.Module);
    assert.equal(got[0], got[1], "one compiled module for every Worker");
  } finally {
    for (const w of workers) w.terminate();
  }
  await assert.rejects(
    () => startWorkers(source, 2, new Uint8Array([0, 97, 115, 109]), (tid, module) => ({ tid, module }), "test"),
    WebAssembly.CompileError,
  );
});

test("matmul pool: many consecutive products of changing sizes on 2 threads equal 1 thread's, bit for bit", async (t) => {
  if (!hasWasmThreads()) return t.skip("no Worker or SharedArrayBuffer in this runtime");
  const variant = hasWasmSimd() ? "simd" : "scalar";
  const one = await createMatMulKernels({ variant });
  const two = await createMatMulKernels({ variant, threads: 2, minParallelWork: 0, idleMs: Infinity });
  assert.equal(two.threads, 2);
  try {
    // Sizes alternate between jobs of 1 chunk and many, so a Worker late for one job meets the next.
    const sizes: [number, number, number, number][] = [];
    for (let i = 0; i < 60; i++) sizes.push(i % 3 === 0 ? [1, 3, 1, 5] : [17 + (i % 5), 9 + i, 70 + i, (i % 4) + 1]);
    for (const [m, n, k, batch] of sizes) {
      const a = uniform(m + n, batch * m * k);
      const b = uniform(n + k, batch * k * n);
      const spec = { m, n, k, batch, transposeB: n % 2 === 0 };
      assert.deepEqual(two.matMul(a, b, spec), one.matMul(a, b, spec), `${batch} × ${m} × ${k} × ${n}`);
    }
  } finally {
    one.dispose();
    two.dispose();
  }
});
