import { test } from "node:test";
import assert from "node:assert/strict";
import { assertClose } from "@likeness/core/testing";
import { _lengthGroups, _USE_LITE_RUN_POSITIONS, loadUseLite, SimilarityModel } from "@likeness/models";
import { createRng } from "@likeness/core";
import { tf, useTfBackend } from "@likeness/tf";
import { spawnSync } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";

function cos(a: Float32Array, b: Float32Array): number {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return d / Math.sqrt(na * nb);
}

test("USE-lite with our tokenizer reproduces the documented similarities", async () => {
  await useTfBackend("wasm");
  const use = await loadUseLite();
  assert.equal(use.dim, 512);
  assert.equal(use.trainable, false);
  assert.deepEqual(use.tokenizer.pieces("How old are you?"), ["▁How", "▁old", "▁are", "▁you", "?"]);
  const model = new SimilarityModel(use);
  const m = await model.encode(["How old are you?", "What is your age?", "The weather is lovely today."], {
    batchSize: 2,
  });
  assert.equal(m.cols, 512);
  const row = (i: number) => m.data.subarray(i * 512, (i + 1) * 512);
  assert.ok(Math.abs(cos(row(0), row(1)) - 0.85) <= 0.03, `sim(age) = ${cos(row(0), row(1))}`);
  assert.ok(Math.abs(cos(row(0), row(2)) - 0.09) <= 0.03, `sim(weather) = ${cos(row(0), row(2))}`);
  // outputs are L2-normalised
  assert.ok(Math.abs(Math.hypot(...row(0)) - 1) < 1e-4);
  assert.match(use.identity(), /^use-lite:[0-9a-f]{32}$/);
  await assert.rejects(
    () => use.encode([1 as unknown as string]),
    (e: Error & { code?: string }) => e.code === "INVALID_ARGUMENT",
  );
  await assert.rejects(() => use.encode([]), (e: Error & { code?: string }) => e.code === "EMPTY_INPUT");
  assert.throws(() => model.forward(["x"]), (e: Error & { code?: string }) => e.code === "UNSUPPORTED");
});

test("USE-lite sorted by length and in groups equals each sentence alone, in input order", async () => {
  await useTfBackend("wasm");
  const use = await loadUseLite();
  const words = ["the", "cat", "sat", "on", "a", "mat", "while", "rain", "fell", "softly", "outside"];
  // 37 sentences of 1 to 30 words, lengths out of order, so sorting moves rows across groups.
  const texts = Array.from({ length: 37 }, (_, i) => {
    const len = 1 + ((i * 17) % 30);
    return Array.from({ length: len }, (_, j) => words[(i + j * 3) % words.length]).join(" ");
  });
  const lengths = texts.map((t) => use.tokenizer.encode(t).length);
  assert.ok(lengths.some((l, i) => i > 0 && l < lengths[i - 1]), "lengths are not already sorted");
  const alone: Float32Array[] = [];
  for (const t of texts) {
    const e = await use.encode([t]);
    alone.push(Float32Array.from(await e.data()));
    e.dispose();
  }
  for (const options of [{}, { maxBatch: 8 }, { maxBatch: 5, sortByLength: false }, { maxBatch: 64 }]) {
    const e = await use.encode(texts, options);
    assert.deepEqual(e.shape, [37, 512]);
    const got = await e.data();
    e.dispose();
    for (let i = 0; i < texts.length; i++) {
      assertClose(got.subarray(i * 512, (i + 1) * 512), alone[i], {
        rtol: 1e-4,
        atol: 2e-5,
        what: `${JSON.stringify(options)} row ${i}`,
      });
    }
  }
  // rows differ, so a permuted result could not pass the comparison above
  assert.ok(cos(alone[0], alone[1]) < 0.999);
  // likeness's kernels (1×1 Conv2D and BatchMatMul as our products) give the stock kernels' rows
  const { isLikenessWasmKernel, registerLikenessWasmKernels } = await import(
    "@likeness/tfwasm"
  );
  await registerLikenessWasmKernels({ replace: true });
  assert.ok(isLikenessWasmKernel("Conv2D"));
  for (let round = 0; round < 3; round++) { // every way the products can run (the chooser tries each)
    const e = await use.encode(texts, { maxBatch: 16 });
    const got = await e.data();
    e.dispose();
    for (let i = 0; i < texts.length; i++) {
      assertClose(got.subarray(i * 512, (i + 1) * 512), alone[i], { rtol: 1e-4, atol: 2e-5, what: `ours row ${i}` });
    }
  }
  // (left registered, as importing @likeness/tfwasm leaves them: bun runs every test file in one process)
  await assert.rejects(
    () => use.encode(texts, { maxBatch: 0 }),
    (e: Error & { code?: string }) => e.code === "INVALID_ARGUMENT",
  );
});

test("USE-lite's synchronous run (the dynamic ops' values fed in) equals executeAsync's, clipped and empty sentences too", async () => {
  await useTfBackend("wasm");
  const use = await loadUseLite();
  const long = Array.from({ length: 90 }, (_, i) => `word${i} and`).join(" ");
  const texts = ["", "How old are you?", long, "a", long + " more words at the end", "The weather is lovely today."];
  assert.ok(use.tokenizer.encode(long).length > 128, "a sentence past the graph's clip length");
  for (const options of [{}, { maxBatch: 2 }, { sortByLength: false }]) {
    const sync = await use.encode(texts, options);
    const viaAsync = await use.encode(texts, { ...options, _executeAsync: true });
    assert.deepEqual(sync.shape, [texts.length, 512]);
    // the same kernels on the same inputs (within float tolerance: our products may split differently)
    assertClose(await sync.data(), await viaAsync.data(), { rtol: 1e-4, atol: 2e-5, what: JSON.stringify(options) });
    tf.dispose([sync, viaAsync]);
  }
  // clipped at 128 tokens: words past it do not change the embedding
  const e = await use.encode([long, long + " more words at the end"]);
  const d = await e.data();
  e.dispose();
  assertClose(d.subarray(0, 512), d.subarray(512), { rtol: 1e-4, atol: 2e-5, what: "clipped" });
});

test("USE-lite's length groups: at most maxBatch each, covering every sentence, the least padding plus run cost", () => {
  const cost = (lengths: number[], ends: number[]) => {
    let s = 0;
    let c = 0;
    for (const e of ends) {
      c += (e - s) * Math.max(1, lengths[e - 1]) + _USE_LITE_RUN_POSITIONS;
      s = e;
    }
    return c;
  };
  // every partition into consecutive groups of at most maxBatch (brute force, for small n)
  const best = (lengths: number[], maxBatch: number, from = 0): number => {
    if (from === lengths.length) return 0;
    let b = Infinity;
    for (let e = from + 1; e <= Math.min(lengths.length, from + maxBatch); e++) {
      b = Math.min(b, (e - from) * Math.max(1, lengths[e - 1]) + _USE_LITE_RUN_POSITIONS + best(lengths, maxBatch, e));
    }
    return b;
  };
  const rng = createRng(3);
  for (let t = 0; t < 60; t++) {
    const n = 1 + Math.floor(rng.next() * 12);
    const lengths = Array.from({ length: n }, () => Math.floor(rng.next() * (t % 2 ? 300 : 40))).sort((a, b) => a - b);
    const maxBatch = 1 + (t % 5);
    const ends = _lengthGroups(lengths, maxBatch);
    assert.equal(ends[ends.length - 1], n);
    ends.forEach((e, g) => assert.ok(e - (g ? ends[g - 1] : 0) >= 1 && e - (g ? ends[g - 1] : 0) <= maxBatch));
    assert.equal(cost(lengths, ends), best(lengths, maxBatch), JSON.stringify({ lengths, maxBatch, ends }));
  }
  // four short sentences and two long ones: two runs pad less than one costs
  assert.deepEqual(_lengthGroups([5, 5, 5, 5, 200, 200], 32), [4, 6]);
  assert.deepEqual(_lengthGroups([9, 10, 10, 11], 32), [4]);
});

test("USE-lite loads in a script whose first tfjs use it is (the backend starts on its own)", () => {
  const isDeno = (globalThis as { Deno?: unknown }).Deno !== undefined;
  const script = fileURLToPath(new URL("./testdata/use_lite_first.ts", import.meta.url));
  const r = spawnSync(process.execPath, isDeno ? ["run", "-A", script] : [script], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
  assert.deepEqual(out.shape, [1, 512]);
  assert.ok(Math.abs(out.norm - 1) < 1e-4, `norm ${out.norm}`);
});
