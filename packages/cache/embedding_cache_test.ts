import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CacheableEncoder, DirStore, EmbeddingCache, MemoryStore } from "@likeness/cache";
import { MlpEncoder } from "@likeness/models";
import { tf, useTfBackend } from "@likeness/tf";

/** A frozen toy encoder: [length, code of first char, scale]; counts the items it embeds. */
class ToyEncoder implements CacheableEncoder {
  readonly dim = 3;
  readonly trainable = false;
  calls = 0;
  items = 0;
  constructor(readonly scale = 1, readonly bad = false) {}
  identity(): string {
    return `toy:${this.scale}`;
  }
  encode(batch: tf.Tensor | readonly unknown[]): Promise<tf.Tensor2D> {
    const texts = batch as string[];
    this.calls++;
    this.items += texts.length;
    const rows = texts.map((t) => [t.length, t.charCodeAt(0) || 0, this.bad ? NaN : this.scale]);
    return Promise.resolve(tf.tensor2d(rows, [texts.length, 3]));
  }
}

const texts = ["alpha", "beta", "gamma", "delta", "epsilon"];
const code = (c: string) => (e: Error & { code?: string }) => e.code === c;

test("fills once with progress, then serves from memory and from disk in a new cache", async () => {
  await useTfBackend("wasm");
  const dir = await mkdtemp(join(tmpdir(), "likeness-cache-"));
  try {
    const enc = new ToyEncoder();
    const cache = new EmbeddingCache({ store: new DirStore(dir) });
    const progress: string[] = [];
    const m = await cache.embed(enc, texts, { batchSize: 2, onProgress: (p) => progress.push(`${p.done}/${p.total}`) });
    assert.deepEqual(progress, ["0/5", "2/5", "4/5", "5/5"]);
    assert.deepEqual(Array.from(m.data.subarray(0, 3)), [5, 97, 1]);
    assert.equal(enc.calls, 3);
    assert.equal((await readdir(dir)).filter((f) => f.endsWith(".lkemb")).length, 1);
    const again = await cache.embed(enc, texts);
    assert.equal(again, m);
    assert.equal(cache.stats.memoryHits, 1);
    const fresh = new EmbeddingCache({ store: new DirStore(dir) });
    const loaded = await fresh.embed(enc, texts);
    assert.deepEqual(Array.from(loaded.data), Array.from(m.data));
    assert.equal(fresh.stats.storeHits, 1);
    assert.equal(enc.calls, 3, "nothing recomputed");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a changed encoder or data set invalidates a named entry", async () => {
  const dir = await mkdtemp(join(tmpdir(), "likeness-cache-"));
  try {
    const store = new DirStore(dir);
    const a = new ToyEncoder(1);
    await new EmbeddingCache({ store }).embed(a, texts, { name: "train" });
    const b = new ToyEncoder(2);
    const c2 = new EmbeddingCache({ store });
    const mb = await c2.embed(b, texts, { name: "train" });
    assert.equal(c2.stats.invalidated, 1);
    assert.equal(mb.data[2], 2);
    const c3 = new EmbeddingCache({ store });
    const changed = await c3.embed(b, [...texts.slice(0, 4), "zeta"], { name: "train" });
    assert.equal(c3.stats.invalidated, 1);
    assert.equal(changed.data[13], "z".charCodeAt(0));
    // same encoder, same data: a hit; order matters
    const c4 = new EmbeddingCache({ store });
    await c4.embed(b, [...texts.slice(0, 4), "zeta"], { name: "train" });
    assert.equal(c4.stats.storeHits, 1);
    assert.deepEqual(await store.keys(), ["train"]);
    // unnamed entries: a different key per identity/content
    const c5 = new EmbeddingCache({ store });
    await c5.embed(a, texts);
    await c5.embed(b, texts);
    assert.equal(c5.stats.misses, 2);
    assert.equal((await store.keys()).length, 3);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a corrupt cache file is detected, recomputed and rewritten, never loaded", async () => {
  const dir = await mkdtemp(join(tmpdir(), "likeness-cache-"));
  try {
    const enc = new ToyEncoder();
    const store = new DirStore(dir);
    const first = await new EmbeddingCache({ store }).embed(enc, texts, { name: "e" });
    const file = join(dir, "e.lkemb");
    const bytes = await readFile(file);
    bytes[bytes.length - 3] ^= 0x40; // flip a payload bit
    await writeFile(file, bytes);
    const warnings: string[] = [];
    const cache = new EmbeddingCache({ store, onWarning: (m) => warnings.push(m) });
    const again = await cache.embed(enc, texts, { name: "e" });
    assert.equal(cache.stats.corrupt, 1);
    assert.equal(cache.stats.misses, 1);
    assert.match(warnings[0], /checksum mismatch/);
    assert.deepEqual(Array.from(again.data), Array.from(first.data));
    // rewritten: a new cache loads it cleanly
    const ok = new EmbeddingCache({ store });
    await ok.embed(enc, texts, { name: "e" });
    assert.equal(ok.stats.storeHits, 1);
    // truncated and garbage files too
    for (const junk of [bytes.subarray(0, 20), new TextEncoder().encode("hello world, not a cache")]) {
      await writeFile(file, junk);
      const c = new EmbeddingCache({ store });
      await c.embed(enc, texts, { name: "e" });
      assert.equal(c.stats.corrupt, 1);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("typed errors: trainable encoder, empty input, non-finite output (nothing cached)", async () => {
  const store = new MemoryStore();
  const cache = new EmbeddingCache({ store });
  await assert.rejects(
    () => cache.embed(new MlpEncoder({ inputDim: 2, outputDim: 2 }), [[1, 2]]),
    code("INVALID_ARGUMENT"),
  );
  const snap = await cache.embed(new MlpEncoder({ inputDim: 2, outputDim: 2 }), [[1, 2]], { allowTrainable: true });
  assert.equal(snap.cols, 2);
  await assert.rejects(() => cache.embed(new ToyEncoder(), []), code("EMPTY_INPUT"));
  await assert.rejects(() => cache.embed(new ToyEncoder(), texts, { name: "../x" }), code("INVALID_ARGUMENT"));
  await assert.rejects(() => cache.embed(new ToyEncoder(1, true), texts, { name: "nan" }), code("NON_FINITE"));
  assert.equal(await store.get("nan"), undefined);
});

test("real USE-lite embeddings round-trip through the disk cache bit for bit", async () => {
  await useTfBackend("wasm");
  const { loadUseLite } = await import("@likeness/models");
  const dir = await mkdtemp(join(tmpdir(), "likeness-cache-"));
  try {
    const use = await loadUseLite();
    const sentences = ["How old are you?", "What is your age?", "The weather is lovely today."];
    const first = await new EmbeddingCache({ store: new DirStore(dir) }).embed(use, sentences, { batchSize: 2 });
    const fresh = new EmbeddingCache({ store: new DirStore(dir) });
    const again = await fresh.embed(use, sentences);
    assert.equal(fresh.stats.storeHits, 1);
    assert.equal(again.cols, 512);
    assert.deepEqual(Array.from(again.data), Array.from(first.data));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
