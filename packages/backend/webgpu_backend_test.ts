import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng, isLikenessError, type Matrix } from "@likeness/core";
import { assertClose } from "@likeness/core/testing";
import {
  adapterRecord,
  choosePairwiseTiling,
  createJsBackend,
  createWasmBackend,
  createWebGpuBackend,
  PAIRWISE_TILINGS,
  type PairwiseTiling,
  type TilingLimits,
} from "@likeness/backend";
import { _tilingBytes, _tilingProblem } from "./webgpu_shaders.ts";

const SPEC_MIN: TilingLimits = {
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupSizeY: 256,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupStorageSize: 16384,
};

test("choosePairwiseTiling: the largest candidate that fits, smaller ones under tighter limits", () => {
  assert.deepEqual(choosePairwiseTiling(SPEC_MIN), PAIRWISE_TILINGS[0]);
  assert.equal(_tilingBytes(PAIRWISE_TILINGS[0]), 16384);
  // 8 KiB of workgroup memory: only the 64×64 tile (8192 bytes) and smaller fit.
  assert.deepEqual(
    choosePairwiseTiling({ ...SPEC_MIN, maxComputeWorkgroupStorageSize: 8192 }),
    { wgX: 16, wgY: 16, rowsPerThread: 4, colsPerThread: 4, tileK: 16 },
  );
  // 64 threads: the 8×8-thread entries.
  const t = choosePairwiseTiling({ ...SPEC_MIN, maxComputeInvocationsPerWorkgroup: 64 });
  assert.equal(t.wgX * t.wgY, 64);
  assert.equal(t.tileK, 16);
  // Limits below every candidate: the smallest one (the device request would then fail loudly).
  assert.deepEqual(
    choosePairwiseTiling({ ...SPEC_MIN, maxComputeWorkgroupStorageSize: 512 }),
    PAIRWISE_TILINGS[PAIRWISE_TILINGS.length - 1],
  );
  for (const c of PAIRWISE_TILINGS) {
    assert.equal(_tilingProblem(c, { ...SPEC_MIN, maxComputeWorkgroupStorageSize: 1 << 20 }), undefined);
  }
});

test("_tilingProblem names the broken rule", () => {
  const ok: PairwiseTiling = { wgX: 16, wgY: 16, rowsPerThread: 4, colsPerThread: 4, tileK: 16 };
  assert.match(_tilingProblem({ ...ok, rowsPerThread: 6 }, SPEC_MIN) ?? "", /rowsPerThread must be 4 or 8/);
  assert.match(_tilingProblem({ ...ok, colsPerThread: 2 }, SPEC_MIN) ?? "", /colsPerThread must be 4 or 8/);
  assert.match(_tilingProblem({ ...ok, tileK: 6 }, SPEC_MIN) ?? "", /multiple of 4/);
  assert.match(_tilingProblem({ ...ok, wgX: 0 }, SPEC_MIN) ?? "", /positive integer/);
  assert.match(_tilingProblem({ ...ok, wgX: 32 }, SPEC_MIN) ?? "", /512 threads > maxComputeInvocationsPerWorkgroup/);
  assert.match(
    _tilingProblem({ ...ok, tileK: 64 }, SPEC_MIN) ?? "",
    /32768 bytes of workgroup memory > maxComputeWorkgroupStorageSize/,
  );
  assert.match(
    _tilingProblem(ok, { ...SPEC_MIN, maxComputeWorkgroupSizeY: 8 }) ?? "",
    /wgY 16 > maxComputeWorkgroupSizeY/,
  );
});

test("adapterRecord copies info, every limit and sorted features into plain data", () => {
  class Limits {
    get maxBufferSize() {
      return 1024;
    }
    get maxComputeWorkgroupStorageSize() {
      return 32768;
    }
  }
  const rec = adapterRecord({
    info: { vendor: "nvidia", architecture: "hopper", description: "NVIDIA H200", isFallbackAdapter: false, x: {} },
    limits: new Limits() as unknown as GPUSupportedLimits,
    features: new Set(["timestamp-query", "shader-f16"]) as unknown as GPUSupportedFeatures,
  });
  assert.deepEqual(rec.info, {
    vendor: "nvidia",
    architecture: "hopper",
    description: "NVIDIA H200",
    isFallbackAdapter: false,
  });
  assert.deepEqual(rec.limits, { maxBufferSize: 1024, maxComputeWorkgroupStorageSize: 32768 });
  assert.deepEqual(rec.features, ["shader-f16", "timestamp-query"]);
  assert.doesNotThrow(() => JSON.stringify(rec));
});

// ---------------------------------------------------------------------------------------------
// On a WebGPU adapter (llvmpipe here): the other tilings, kernel timing, rejected tilings.

const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
const wantGpu = (globalThis as { Deno?: { env: { get(n: string): string | undefined } } }).Deno?.env.get(
  "LIKENESS_TEST_WEBGPU",
) === "1";
const gpuSkip = isBun ? { skip: "Bun has no WebGPU (navigator.gpu is undefined)" } : wantGpu ? {} : {
  skip: "WebGPU tests run only with LIKENESS_TEST_WEBGPU=1 (here the adapter is llvmpipe, a slow software fallback)",
};

function rand(seed: number, rows: number, cols: number): Matrix {
  const rng = createRng(seed);
  return { data: Float32Array.from({ length: rows * cols }, () => rng.next() * 2 - 1), rows, cols };
}

test("webgpu: the smaller tilings agree with the reference over tile tails (33×70, d = 13)", gpuSkip, async () => {
  const ref = createJsBackend();
  const q = rand(1, 33, 13);
  const r = rand(2, 70, 13);
  for (const tiling of [PAIRWISE_TILINGS[1], PAIRWISE_TILINGS[3]]) {
    const gpu = await createWebGpuBackend({ delegate: createJsBackend(), allowFallbackAdapter: true, tiling });
    try {
      assert.deepEqual(gpu.info.gpu.tiling, tiling);
      for (const metric of ["l2", "cosine"] as const) {
        const got = await gpu.pairwise(q, r, metric);
        assertClose(got.data, (await ref.pairwise(q, r, metric)).data, {
          rtol: 1e-4,
          atol: 3e-5,
          what: `${metric} ${JSON.stringify(tiling)}`,
        });
      }
    } finally {
      gpu.dispose();
    }
  }
});

test(
  "webgpu: kernelTiming records kernel-only time from timestamp queries (or says it is wall time)",
  gpuSkip,
  async () => {
    const gpu = await createWebGpuBackend({
      delegate: createWasmBackend(),
      allowFallbackAdapter: true,
      kernelTiming: true,
      scratchFloats: 4096,
    });
    try {
      assert.equal(gpu.lastTiming, undefined);
      const q = rand(3, 20, 8);
      const r = rand(4, 300, 8);
      await gpu.topk(q, r, { k: 5, metric: "cosine" });
      const t = gpu.lastTiming!;
      assert.equal(t.op, "topk");
      assert.ok(t.passes >= 4, `passes ${t.passes}: norms, then pairwise, partial and merge per block`);
      assert.ok(t.wallMs > 0);
      if (gpu.info.gpu.timestampQuery) {
        assert.equal(t.source, "timestamp-query");
        assert.ok(t.kernelMs !== null && t.kernelMs > 0 && t.kernelMs <= t.wallMs, JSON.stringify(t));
      } else {
        assert.equal(t.source, "wall");
        assert.equal(t.kernelMs, null);
        assert.match(t.note ?? "", /lacks timestamp-query/);
      }
      await gpu.pairwise(q, q, "dot");
      assert.equal(gpu.lastTiming!.op, "pairwise");
      assert.equal(gpu.lastTiming!.passes, 1);
    } finally {
      gpu.dispose();
    }
  },
);

test("webgpu: a tiling over the device's limits or a bad topkSegment is rejected", gpuSkip, async () => {
  const huge: PairwiseTiling = { wgX: 16, wgY: 16, rowsPerThread: 8, colsPerThread: 8, tileK: 4096 };
  for (
    const options of [{ tiling: huge }, { topkSegment: 0 }, {
      tiling: { ...huge, tileK: 6 },
    }]
  ) {
    await assert.rejects(
      createWebGpuBackend({ delegate: createJsBackend(), allowFallbackAdapter: true, ...options }),
      (e: unknown) => isLikenessError(e) && (e as { code: string }).code === "INVALID_ARGUMENT",
      JSON.stringify(options),
    );
  }
});
