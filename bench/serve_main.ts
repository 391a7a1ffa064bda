/**
 * `deno task bench:serve`: a bounded load generator on loopback against the server's search and
 * classify routes with 10,000 and 100,000 references (fixed request count and a time limit),
 * reporting requests per second, p50 and p99 latency, and the ratio to the kernel-only top-k
 * throughput on the same index (the ceiling); plus hot-add throughput while searches run.
 * One JSON object per line; also written to runs/bench/serve.jsonl.
 *
 * Flags: --quick (10,000 references only, fewer requests), --runtime-label NAME.
 */
import process from "node:process";
import { appendFileSync, mkdirSync } from "node:fs";
import { createRng } from "@likeness/core";
import { createBackend } from "@likeness/backend";
import { createApp, FileStore, serveFetch, vectorOnlyModel } from "@likeness/server";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const quick = process.argv.includes("--quick");
const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? "bun" : "deno";
const DIM = 128;
const sizes = quick ? [10_000] : [10_000, 100_000];
const REQUESTS = quick ? 300 : 1000;
const CONCURRENCY = 8;
const TIME_LIMIT_MS = 30_000;

mkdirSync("runs/bench", { recursive: true });
const emit = (row: Record<string, unknown>) => {
  const line = JSON.stringify({ runtime, ...row });
  console.log(line);
  appendFileSync("runs/bench/serve.jsonl", line + "\n");
};

const rng = createRng(7);
const randVec = () => Array.from({ length: DIM }, () => rng.normal());

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

const { backend } = await createBackend({ tf: false });

for (const n of sizes) {
  const dir = mkdtempSync(join(tmpdir(), "likeness-bench-serve-"));
  const store = new FileStore(dir, { sync: true });
  const made = await createApp({
    model: vectorOnlyModel(DIM, { threshold: 0.2 }),
    store,
    backend,
    limits: { maxItems: 1000, maxBodyBytes: 16 << 20 },
  });
  // Bulk load through the index directly (the bench measures serving, not loading).
  const items = Array.from(
    { length: n },
    (_, i) => ({ id: `r${i}`, label: `c${i % 50}`, vector: Float32Array.from(randVec()) }),
  );
  made.index.upsert(items);
  await store.write({ put: items });

  // Ceiling: kernel-only top-k on the same snapshot, same k, one query at a time.
  const snap = made.index.snapshot();
  const reference = { data: snap.data.subarray(0, snap.rows * DIM), rows: snap.rows, cols: DIM };
  const kq = 50;
  // Warm up first: V8 runs the first calls of a long WebAssembly function in its baseline tier.
  for (let i = 0; i < 10; i++) {
    await backend.topk({ data: Float32Array.from(randVec()), rows: 1, cols: DIM }, reference, {
      k: 10,
      metric: "cosine",
    });
  }
  const t0 = performance.now();
  for (let i = 0; i < kq; i++) {
    await backend.topk({ data: Float32Array.from(randVec()), rows: 1, cols: DIM }, reference, {
      k: 10,
      metric: "cosine",
    });
  }
  const kernelQps = kq / ((performance.now() - t0) / 1000);
  emit({ bench: "serve", impl: `kernel-topk:${backend.info.name}`, references: n, rps: +kernelQps.toFixed(1) });

  const server = await serveFetch(made.app.fetch, { port: 0 });
  const url = `http://127.0.0.1:${server.port}`;
  for (const route of ["search", "classify"]) {
    const lat: number[] = [];
    let sent = 0;
    const start = performance.now();
    const worker = async () => {
      while (sent < REQUESTS && performance.now() - start < TIME_LIMIT_MS) {
        sent++;
        const body = JSON.stringify({ vector: randVec(), k: 10 });
        const t = performance.now();
        const res = await fetch(`${url}/v1/${route}`, { method: "POST", body });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`status ${res.status}`);
        lat.push(performance.now() - t);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const secs = (performance.now() - start) / 1000;
    const rps = lat.length / secs;
    emit({
      bench: "serve",
      impl: `http:${route}`,
      references: n,
      requests: lat.length,
      concurrency: CONCURRENCY,
      rps: +rps.toFixed(1),
      p50_ms: +pct(lat, 0.5).toFixed(2),
      p99_ms: +pct(lat, 0.99).toFixed(2),
      ratio_to_kernel: +(rps / kernelQps).toFixed(3),
    });
  }

  // Hot-add throughput (fsync per request) while 4 searchers run.
  let stop = false;
  let searches = 0;
  const searcher = async () => {
    while (!stop) {
      const res = await fetch(`${url}/v1/search`, {
        method: "POST",
        body: JSON.stringify({ vector: randVec(), k: 10 }),
      });
      await res.arrayBuffer();
      searches++;
    }
  };
  const searchers = Array.from({ length: 4 }, searcher);
  const adds = quick ? 100 : 300;
  const t1 = performance.now();
  for (let i = 0; i < adds; i++) {
    const res = await fetch(`${url}/v1/references`, {
      method: "POST",
      body: JSON.stringify({ items: [{ id: `new${i}`, label: "fresh", vector: randVec() }] }),
    });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`hot-add status ${res.status}`);
  }
  const addSecs = (performance.now() - t1) / 1000;
  stop = true;
  await Promise.all(searchers);
  emit({
    bench: "serve",
    impl: "http:hot-add-during-search",
    references: n,
    adds,
    adds_per_s: +(adds / addSecs).toFixed(1),
    concurrent_searches_per_s: +(searches / addSecs).toFixed(1),
  });
  await server.close();
  await made.close();
}
backend.dispose();
