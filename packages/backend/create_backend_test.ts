import { test } from "node:test";
import assert from "node:assert/strict";
import { isLikenessError } from "@likeness/core";
import { BACKEND_NAMES, createBackend, type WebGpuProbe } from "@likeness/backend";

const noGpu: WebGpuProbe = { adapter: null, fallback: false, description: "", reason: "test: no adapter" };
const softGpu: WebGpuProbe = {
  adapter: {} as GPUAdapter, // never used: a fallback adapter is rejected before requestDevice
  fallback: true,
  description: "test llvmpipe",
};

function code(e: unknown): string | undefined {
  return isLikenessError(e) ? e.code : undefined;
}

test("auto without a GPU picks wasm-simd and says why webgpu was skipped", async () => {
  const { backend, skipped, source, tf } = await createBackend({ probe: noGpu, env: {}, tf: false });
  try {
    assert.equal(backend.info.name, "wasm-simd");
    assert.equal(source, "auto");
    assert.equal(tf, null);
    assert.deepEqual(skipped, [{ name: "webgpu", reason: "WebGPU is unavailable: test: no adapter" }]);
  } finally {
    backend.dispose();
  }
});

test("auto skips a software fallback adapter unless allowFallbackAdapter", async () => {
  const { backend, skipped } = await createBackend({ probe: softGpu, env: {}, tf: false });
  try {
    assert.equal(backend.info.name, "wasm-simd");
    assert.equal(skipped.length, 1);
    assert.equal(skipped[0].name, "webgpu");
    assert.match(skipped[0].reason, /test llvmpipe.*software fallback.*allowFallbackAdapter/);
  } finally {
    backend.dispose();
  }
});

test("prefer by option wins over LIKENESS_BACKEND; the env applies when prefer is auto or absent", async () => {
  const a = await createBackend({ prefer: "js", env: { LIKENESS_BACKEND: "wasm" }, tf: false });
  assert.equal(a.backend.info.name, "js");
  assert.equal(a.source, "option");
  assert.deepEqual(a.skipped, []);
  const b = await createBackend({ prefer: "auto", env: { LIKENESS_BACKEND: "wasm" }, tf: false });
  assert.equal(b.backend.info.name, "wasm");
  assert.equal(b.source, "env");
  const c = await createBackend({ env: (n) => (n === "LIKENESS_BACKEND" ? " JS " : undefined), tf: false });
  assert.equal(c.backend.info.name, "js");
  for (const s of [a, b, c]) s.backend.dispose();
});

test("unknown backend names throw UNKNOWN_NAME (option and environment); bad threads INVALID_ARGUMENT", async () => {
  await assert.rejects(
    createBackend({ prefer: "cuda" as "js", tf: false }),
    (e) => code(e) === "UNKNOWN_NAME" && /cuda.*webgpu, wasm-simd, wasm, js, auto/.test((e as Error).message),
  );
  await assert.rejects(createBackend({ threads: 0, tf: false }), (e) => code(e) === "INVALID_ARGUMENT");
  await assert.rejects(createBackend({ threads: 1.5, tf: false }), (e) => code(e) === "INVALID_ARGUMENT");
  await assert.rejects(
    createBackend({ env: { LIKENESS_BACKEND: "gpu" }, tf: false }),
    (e) => code(e) === "UNKNOWN_NAME" && /LIKENESS_BACKEND/.test((e as Error).message),
  );
});

test("prefer webgpu falls back down the priority list, or throws UNSUPPORTED when strict", async () => {
  const s = await createBackend({ prefer: "webgpu", probe: noGpu, tf: false });
  assert.equal(s.backend.info.name, "wasm-simd");
  assert.deepEqual(s.skipped.map((x) => x.name), ["webgpu"]);
  s.backend.dispose();
  await assert.rejects(
    createBackend({ prefer: "webgpu", strict: true, probe: noGpu, tf: false }),
    (e) => code(e) === "UNSUPPORTED" && /webgpu: WebGPU is unavailable: test: no adapter/.test((e as Error).message),
  );
});

test("prefer wasm tries wasm then js only; the priority list is fixed", async () => {
  assert.deepEqual(BACKEND_NAMES, ["webgpu", "wasm-simd", "wasm", "js"]);
  const s = await createBackend({ prefer: "wasm", tf: false });
  assert.equal(s.backend.info.name, "wasm");
  assert.equal(s.backend.info.relaxed, undefined);
  s.backend.dispose();
});

test("threads reach the wasm kernels' info", async () => {
  const s = await createBackend({ prefer: "wasm-simd", threads: 2, tf: false });
  try {
    const q = { data: new Float32Array([1, 2, 3, 4]), rows: 2, cols: 2 };
    assert.deepEqual((await s.backend.pairwise(q, q, "dot")).data, new Float32Array([5, 11, 11, 25]));
    const { threads, detail } = s.backend.info;
    assert.ok(threads === 2 || (threads === 1 && /unavailable/.test(detail)), detail);
  } finally {
    s.backend.dispose();
  }
});

test("createBackend starts the matching tfjs backend (wasm for the wasm backends)", async () => {
  const s = await createBackend({ prefer: "js", tf: true });
  try {
    assert.equal(s.tf, "wasm", s.tfReason);
    const { tf } = await import("@likeness/tf");
    assert.equal(tf.getBackend(), "wasm");
  } finally {
    s.backend.dispose();
  }
});

test("LIKENESS_BACKEND is read from the real environment when no env source is given", async () => {
  const g = globalThis as {
    Deno?: { env: { set(k: string, v: string): void; delete(k: string): void; get(k: string): string | undefined } };
    process?: { env: Record<string, string | undefined> };
  };
  const prev = g.Deno ? g.Deno.env.get("LIKENESS_BACKEND") : g.process?.env.LIKENESS_BACKEND;
  const set = (v: string | undefined) => {
    if (g.Deno) v === undefined ? g.Deno.env.delete("LIKENESS_BACKEND") : g.Deno.env.set("LIKENESS_BACKEND", v);
    else if (g.process) v === undefined ? delete g.process.env.LIKENESS_BACKEND : (g.process.env.LIKENESS_BACKEND = v);
  };
  // Set only around the synchronous part of createBackend (it reads the environment before its
  // first await), so parallel test files never see the variable.
  set("js");
  let pending;
  try {
    pending = createBackend({ tf: false });
  } finally {
    set(prev);
  }
  const s = await pending;
  assert.equal(s.backend.info.name, "js");
  assert.equal(s.source, "env");
  assert.deepEqual(s.skipped, []);
  s.backend.dispose();
});

test("createBackend does not start tfjs unless asked (tf defaults to false)", async () => {
  const s = await createBackend({ prefer: "js", env: {} });
  try {
    assert.equal(s.tf, null);
    assert.equal(s.tfReason, undefined);
  } finally {
    s.backend.dispose();
  }
});
