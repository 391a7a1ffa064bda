import { test } from "node:test";
import assert from "node:assert/strict";
import { describeAdapter, isFallbackAdapter, probeWebGpu } from "@likeness/backend";

const fake = (o: object) => o as unknown as GPUAdapter;

test("isFallbackAdapter: spec flag, legacy flag, or a software rasteriser's name", () => {
  assert.equal(isFallbackAdapter(fake({ info: { isFallbackAdapter: true, vendor: "x" } })), true);
  assert.equal(isFallbackAdapter(fake({ isFallbackAdapter: true })), true);
  assert.equal(
    isFallbackAdapter(fake({ info: { vendor: "mesa", description: "llvmpipe (LLVM 15.0.6, 256 bits)" } })),
    true,
  );
  assert.equal(isFallbackAdapter(fake({ info: { vendor: "google", description: "SwiftShader Device" } })), true);
  assert.equal(
    isFallbackAdapter(fake({ info: { vendor: "nvidia", architecture: "hopper", description: "NVIDIA H200" } })),
    false,
  );
});

test("describeAdapter joins vendor, architecture and description", () => {
  assert.equal(
    describeAdapter(
      fake({ info: { vendor: "nvidia", architecture: "hopper", description: "NVIDIA H200", device: "0" } }),
    ),
    "nvidia hopper: NVIDIA H200",
  );
  assert.equal(describeAdapter(fake({})), "unknown adapter");
});

const hasGpu = !!(globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu;

test(
  "probeWebGpu without navigator.gpu returns a null adapter and the reason",
  hasGpu ? { skip: "this runtime has navigator.gpu (Deno); the no-GPU path runs under Bun" } : {},
  async () => {
    const p = await probeWebGpu();
    assert.equal(p.adapter, null);
    assert.equal(p.fallback, false);
    assert.match(p.reason ?? "", /navigator\.gpu is missing/);
  },
);
