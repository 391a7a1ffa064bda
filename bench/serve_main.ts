/**
 * `deno task bench:serve` (and `bun run bench:serve`): a bounded load generator on loopback
 * against a real server process (`packages/server/main.ts --dim 128 --data DIR`, same runtime as
 * the bench) with 10,000 and 100,000 references in its SQLite store, 8 concurrent clients in this
 * process: search and classify requests per second, p50 and p99 latency; the ceiling beside it
 * (the resident index searched in this process, batches of 1 and of 8 queries, same kind); and
 * hot-adds (fsync each) while 4 clients search, beside the same 4 clients as long without hot-adds. Index kinds: `flat` (exact) and, at 100,000, `hnsw`.
 * One JSON object per line; also appended to runs/bench/serve.jsonl.
 *
 * Flags: --quick (10,000 references only, fewer requests), --threads N (the server's and the
 * ceiling's kernel threads, default 1), --kinds flat,hnsw (any of flat, int8, binary, hnsw),
 * --hnsw-ef-construction N (default 200), --sizes 10000,100000 (reference counts), --requests N
 * (per route, default 1000), --routes search,classify, --hot-add on|off (default on),
 * --restart on|off (default off: on stops the server after its first start, once it has written
 * its index snapshot, and times a second start from it: row `restart:KIND`), --ceiling on|off
 * (default on: the in-process index rows; off skips that second build, e.g. at 1,000,000),
 * --hnsw-ef-search N and --hnsw-codes float32|int8 (passed to the server).
 *
 * --data random|clustered (default random: seeded normal vectors; `clustered`: the synthetic set of
 * `deno task bench:ann --datasets synthetic`, `clusteredRows` of bench/_data.ts with its seed 2026,
 * the rows as references and its queries as the request bodies). With `clustered` the `http:search`
 * row also has `recall_at_10`: --recall-queries N [200] of those queries are each sent once and the
 * ids of the answer compared with the exact top 10 of the flat index (cosine, the server's metric)
 * computed in this process. --data-dir DIR keeps the server's data (SQLite store and, snapshots
 * on, its index snapshot) in DIR/<data>-<n>-<kind> instead of a temporary folder and leaves it there:
 * a second run with the same DIR starts the server from that store and snapshot (no fill, no
 * rebuild); the `start:` row says which (`from`). The hot-adds are deleted after their row, but with
 * a kept DIR pass --hot-add off so that the snapshot stays current.
 */
import process from "node:process";
import { spawn } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRng, type Matrix } from "@likeness/core";
import { createBackend, createIndex, type IndexKind } from "@likeness/backend";
import { clusteredRows } from "./_data.ts";
import { SqliteStore } from "@likeness/server";

const quick = process.argv.includes("--quick");
const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const threads = Number(arg("threads", "1"));
const kinds = arg("kinds", "flat,hnsw").split(",") as IndexKind[];
const efConstruction = Number(arg("hnsw-ef-construction", "200"));
const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? "bun" : "deno";
const DIM = 128;
const sizes = arg("sizes", quick ? "10000" : "10000,100000").split(",").map(Number);
const REQUESTS = Number(arg("requests", quick ? "300" : "1000"));
const routes = arg("routes", "search,classify").split(",");
const hotAdd = arg("hot-add", "on") === "on";
const restart = arg("restart", "off") === "on";
const ceilingOn = arg("ceiling", "on") === "on";
const efSearch = arg("hnsw-ef-search", "");
const hnswCodes = arg("hnsw-codes", "");
const dataKind = arg("data", "random");
if (dataKind !== "random" && dataKind !== "clustered") throw new Error(`--data must be random or clustered`);
const RECALL_QUERIES = Number(arg("recall-queries", "200"));
const dataRoot = arg("data-dir", "");
const snapshotsOn = restart || dataRoot !== "";
const CONCURRENCY = 8;
const TIME_LIMIT_MS = 30_000;
const MAIN = fileURLToPath(new URL("../packages/server/main.ts", import.meta.url));
const CLIENT = fileURLToPath(new URL("./_serve_client.ts", import.meta.url));
const load1 = () => +loadavg()[0].toFixed(2);

mkdirSync("runs/bench", { recursive: true });
const emit = (row: Record<string, unknown>) => {
  const line = JSON.stringify({ runtime, threads, ...row, load1: load1() });
  console.log(line);
  appendFileSync("runs/bench/serve.jsonl", line + "\n");
};

const rng = createRng(7);
const randVec = () => Array.from({ length: DIM }, () => rng.normal());
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

/** Start `serve` on DIR; resolves with its URL and a stop function. */
function startServer(
  dir: string,
  extra: string[],
): Promise<{ log: string; url: string; port: number; pid: number; stop(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    [
      ...(runtime === "bun" ? ["run"] : ["run", "-A"]),
      MAIN,
      "--dim",
      String(DIM),
      "--data",
      dir,
      "--port",
      "0",
      "--snapshot",
      snapshotsOn ? "on" : "off",
      ...extra,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const closed = new Promise((r) => child.on("close", r));
  return new Promise((resolve, reject) => {
    let log = "";
    const on = (d: Uint8Array) => {
      log += new TextDecoder().decode(d);
      const m = /http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
      // The line after the URL says where the index came from (snapshot or store).
      if (m && /index opened from [^\n]*\n/.test(log)) {
        child.stdout!.off("data", on);
        resolve({
          log,
          url: `http://127.0.0.1:${m[1]}`,
          port: Number(m[1]),
          pid: child.pid!,
          stop: async () => {
            child.kill("SIGTERM");
            await closed;
          },
        });
      }
    };
    child.stdout!.on("data", on);
    child.stderr!.on("data", (d) => process.stderr.write(d));
    child.on("close", () => reject(new Error(`server exited: ${log}`)));
  });
}

/** CPU seconds of a process (all threads) and of its main thread, from /proc (zeros elsewhere). */
function serverCpu(pid: number): { all: number; main: number } {
  const ticks = (path: string) => {
    try {
      const f = readFileSync(path, "utf8");
      const rest = f.slice(f.lastIndexOf(")") + 2).split(" ");
      return (Number(rest[11]) + Number(rest[12])) / 100; // utime + stime, USER_HZ = 100
    } catch {
      return 0;
    }
  };
  return { all: ticks(`/proc/${pid}/stat`), main: ticks(`/proc/${pid}/task/${pid}/stat`) };
}

/** The searcher's batch counters from the server's /metrics. */
async function batchMetrics(url: string) {
  const text = await (await fetch(`${url}/metrics`)).text();
  const num = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
  return {
    batches: num(/^likeness_search_batches_total (\S+)/m),
    queries: num(/^likeness_search_batch_queries_total (\S+)/m),
    index: num(/^likeness_search_phase_seconds_total\{phase="index"\} (\S+)/m),
    hits: num(/^likeness_search_phase_seconds_total\{phase="hits"\} (\S+)/m),
    fill: num(/^likeness_search_phase_seconds_total\{phase="fill"\} (\S+)/m),
  };
}

/** Run the load generator (`_serve_client.ts`) in its own process; resolves with its report. */
function runClients(port: number, path: string, bodies: string[], concurrency: number, requests: number) {
  const job = join(mkdtempSync(join(tmpdir(), "likeness-bench-client-")), "job.json");
  writeFileSync(job, JSON.stringify({ port, path, bodies, concurrency, requests, timeLimitMs: TIME_LIMIT_MS }));
  const child = spawn(process.execPath, [...(runtime === "bun" ? [] : ["run", "-A"]), CLIENT, job], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout!.on("data", (d) => out += d);
  return new Promise<{ lat: number[]; seconds: number; cpu_user_s: number; cpu_system_s: number }>(
    (resolve, reject) => {
      child.on("close", (code) => {
        rmSync(dirname(job), { recursive: true, force: true });
        try {
          const r = JSON.parse(out);
          if (r.failed) throw new Error(`client: ${r.failed}`);
          resolve(r);
        } catch (e) {
          reject(new Error(`client exited ${code}: ${(e as Error).message} ${out.slice(0, 300)}`));
        }
      });
    },
  );
}

const { backend } = await createBackend({ tf: false, threads });

/** Where the server's start came from, as its log says. */
const startedFrom = (log: string) => ({
  from: /its snapshot plus/.test(log) ? "snapshot" : /every stored reference/.test(log) ? "store" : "unknown",
  // The server's own count (process start to listening), beside the bench's (spawn to the log line).
  server_start_s: Number(/started in ([\d.]+) s/.exec(log)?.[1] ?? NaN),
});

/** Exact top-k ids (row numbers) of `queries` among `rows` under cosine: the flat index here. */
async function exactTop(rows: Matrix, queries: Matrix, k: number): Promise<Int32Array> {
  const flat = await createIndex({ dim: DIM, metric: "cosine", kind: "flat", capacity: rows.rows }, backend);
  await flat.add(rows);
  const r = await flat.search(queries, { k });
  flat.dispose();
  return r.ids;
}

/** recall@10 of the server's answers: each query sent once, its hit ids (`r<row>`) against the truth. */
async function serverRecall(url: string, queries: Matrix, truth: Int32Array): Promise<number> {
  let hit = 0;
  for (let i = 0; i < queries.rows; i++) {
    const res = await fetch(`${url}/v1/search`, {
      method: "POST",
      body: JSON.stringify({ vector: Array.from(queries.data.subarray(i * DIM, (i + 1) * DIM)), k: 10 }),
    });
    if (res.status !== 200) throw new Error(`search status ${res.status}: ${await res.text()}`);
    const { results } = await res.json() as { results: { id: string }[] };
    const want = new Set(truth.subarray(i * 10, i * 10 + 10));
    for (const r of results) if (want.has(Number(r.id.slice(1)))) hit++;
  }
  return hit / (queries.rows * 10);
}

for (const n of sizes) {
  let set: { train: Matrix; queries: Matrix } | undefined;
  const items = () => {
    if (dataKind === "clustered") {
      set ??= clusteredRows(createRng(2026), n, Math.max(256, RECALL_QUERIES), DIM);
      const t = set.train;
      return Array.from(
        { length: n },
        (_, i) => ({ id: `r${i}`, label: `c${i % 50}`, vector: t.data.subarray(i * DIM, (i + 1) * DIM) }),
      );
    }
    return Array.from(
      { length: n },
      (_, i) => ({ id: `r${i}`, label: `c${i % 50}`, vector: Float32Array.from(randVec()) }),
    );
  };
  let all: ReturnType<typeof items> | undefined;
  /** Make (or find, with --data-dir) a data folder holding the n references in its SQLite store. */
  const dataDir = async (kind: string) => {
    const dir = dataRoot
      ? join(dataRoot, `${dataKind}-${n}-${kind}`)
      : mkdtempSync(join(tmpdir(), "likeness-bench-serve-"));
    if (dataRoot && existsSync(join(dir, "filled"))) return dir;
    mkdirSync(dir, { recursive: true });
    all ??= items();
    const store = await SqliteStore.open(join(dir, "likeness.db"), { dim: DIM });
    await store.load();
    for (let i = 0; i < n; i += 10_000) await store.write({ put: all.slice(i, i + 10_000) });
    await store.close();
    if (dataRoot) writeFileSync(join(dir, "filled"), `${n} ${dataKind} references\n`);
    return dir;
  };

  for (const kind of kinds) {
    if (kind === "hnsw" && n < 100_000 && !quick) continue;
    const dir = await dataDir(kind);
    let c8 = NaN;
    if (ceilingOn) {
      // Ceiling: the resident index alone in this process, same kind, 1 and 8 queries per call.
      const index = await createIndex(
        { dim: DIM, metric: "cosine", kind, capacity: n, ...(kind === "hnsw" ? { hnsw: { efConstruction } } : {}) },
        backend,
      );
      const data = new Float32Array(n * DIM);
      all ??= items();
      all.forEach((it, i) => data.set(it.vector, i * DIM));
      await index.add({ data, rows: n, cols: DIM });
      // The same 512 distinct queries cycled in calls of 1 or of 8: a query repeated call after call
      // keeps the rows its graph walk visits in cache (an hnsw search then costs about half), which
      // made single queries look faster per query than batches of 8 distinct ones.
      const pool = Float32Array.from({ length: 512 * DIM }, () => rng.normal());
      const ceiling = async (batch: number) => {
        const calls0 = 512 / batch;
        const q = (c: number) => ({
          data: pool.subarray((c % calls0) * batch * DIM, ((c % calls0) + 1) * batch * DIM),
          rows: batch,
          cols: DIM,
        });
        for (let i = 0; i < 5; i++) await index.search(q(i), { k: 10 });
        const t0 = performance.now();
        let calls = 0;
        while (performance.now() - t0 < 1500) {
          await index.search(q(calls), { k: 10 });
          calls++;
        }
        return (calls * batch) / ((performance.now() - t0) / 1000);
      };
      const c1 = await ceiling(1);
      c8 = await ceiling(8);
      index.dispose();
      emit({
        bench: "serve",
        impl: `index-search:${kind}`,
        references: n,
        q_per_s_batch1: +c1.toFixed(0),
        q_per_s_batch8: +c8.toFixed(0),
      });
    }

    const serverArgs = [
      "--index",
      kind,
      "--threads",
      String(threads),
      ...(kind === "hnsw" ? ["--hnsw-ef-construction", String(efConstruction)] : []),
      ...(kind === "hnsw" && efSearch ? ["--hnsw-ef-search", efSearch] : []),
      ...(kind === "hnsw" && hnswCodes ? ["--hnsw-codes", hnswCodes] : []),
    ];
    const t0 = performance.now();
    let server = await startServer(dir, serverArgs);
    emit({
      bench: "serve",
      impl: `start:${kind}`,
      references: n,
      start_s: +((performance.now() - t0) / 1000).toFixed(1),
      ...startedFrom(server.log),
      data: dataKind,
    });
    if (restart) {
      // The first start writes DIR/likeness.index in the background; stop waits for it, but a
      // SIGTERM before the server has set its handlers would kill it without one: wait for the file.
      const snap = join(dir, "likeness.index");
      for (let i = 0; i < 12_000 && !existsSync(snap); i++) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 200));
      await server.stop();
      const t1 = performance.now();
      server = await startServer(dir, serverArgs);
      emit({
        bench: "serve",
        impl: `restart:${kind}`,
        references: n,
        start_s: +((performance.now() - t1) / 1000).toFixed(2),
        ...startedFrom(server.log),
        data: dataKind,
      });
    }
    let recall: number | undefined;
    let bodies: string[];
    if (dataKind === "clustered") {
      set ??= clusteredRows(createRng(2026), n, Math.max(256, RECALL_QUERIES), DIM);
      const q = set.queries;
      bodies = Array.from(
        { length: 256 },
        (_, i) => JSON.stringify({ vector: Array.from(q.data.subarray(i * DIM, (i + 1) * DIM)), k: 10 }),
      );
      const rq = { data: q.data.subarray(0, RECALL_QUERIES * DIM), rows: RECALL_QUERIES, cols: DIM };
      const truth = await exactTop(set.train, rq, 10);
      recall = await serverRecall(server.url, rq, truth);
    } else bodies = Array.from({ length: 256 }, () => JSON.stringify({ vector: randVec(), k: 10 }));
    for (const route of routes) {
      const m0 = await batchMetrics(server.url);
      const s0 = serverCpu(server.pid);
      const load0 = load1();
      const r = await runClients(server.port, `/v1/${route}`, bodies, CONCURRENCY, REQUESTS);
      const s1 = serverCpu(server.pid);
      const m1 = await batchMetrics(server.url);
      const lat = r.lat;
      const rps = lat.length / r.seconds;
      const n1 = lat.length;
      const per = (x: number) => +(x * 1000 / n1).toFixed(3);
      const batches = m1.batches - m0.batches, queries = m1.queries - m0.queries;
      const mainS = s1.main - s0.main, allS = s1.all - s0.all;
      emit({
        bench: "serve",
        impl: `http:${route}`,
        index: kind,
        references: n,
        requests: n1,
        concurrency: CONCURRENCY,
        rps: +rps.toFixed(1),
        p50_ms: +pct(lat, 0.5).toFixed(2),
        p99_ms: +pct(lat, 0.99).toFixed(2),
        ...(route === "search" && recall !== undefined ? { recall_at_10: +recall.toFixed(4) } : {}),
        data: dataKind,
        ...(kind === "hnsw" && efSearch ? { efSearch: Number(efSearch) } : {}),
        ...(kind === "hnsw" && hnswCodes ? { codes: hnswCodes } : {}),
        ...(ceilingOn ? { ratio_to_batch8: +(rps / c8).toFixed(2) } : {}),
        load1_before: load0,
        // Where a request's time goes (ms per request; CPU from /proc, phases from /metrics).
        breakdown: {
          client_cpu_ms: per(r.cpu_user_s + r.cpu_system_s),
          client_cpu_share: +((r.cpu_user_s + r.cpu_system_s) / r.seconds).toFixed(2),
          server_cpu_ms: per(allS),
          server_main_thread_cpu_ms: per(mainS),
          server_other_threads_cpu_ms: per(allS - mainS),
          server_cpu_share: +(allS / r.seconds).toFixed(2),
          batch_mean: +(queries / Math.max(1, batches)).toFixed(2),
          index_search_ms: per(m1.index - m0.index),
          hits_ms: per(m1.hits - m0.hits),
          fill_wait_ms_per_batch: +((m1.fill - m0.fill) * 1000 / Math.max(1, batches)).toFixed(3),
          // Main-thread CPU less the index phase's wall time: meaningful on one kernel thread only (with
          // --threads 2 an hnsw batch's walk runs partly on a Worker, so this goes negative).
          http_json_route_ms: per(mainS - (m1.index - m0.index) - (m1.hits - m0.hits)),
        },
      });
    }

    if (!hotAdd) {
      await server.stop();
      if (!dataRoot) rmSync(dir, { recursive: true, force: true });
      continue;
    }
    // Hot-add throughput (fsync per request) while 4 clients search; then the same 4 clients for
    // as long again without hot-adds, as the baseline of the same run.
    let stop = false;
    const searchLat: number[] = [];
    const searcher = async () => {
      while (!stop) {
        const t = performance.now();
        const res = await fetch(`${server.url}/v1/search`, {
          method: "POST",
          body: bodies[searchLat.length % bodies.length],
        });
        await res.arrayBuffer();
        searchLat.push(performance.now() - t);
      }
    };
    const searchers = Array.from({ length: 4 }, searcher);
    const adds = quick ? 100 : 300;
    const t1 = performance.now();
    for (let i = 0; i < adds; i++) {
      const res = await fetch(`${server.url}/v1/references`, {
        method: "POST",
        body: JSON.stringify({ items: [{ id: `new${i}`, label: "fresh", vector: randVec() }] }),
      });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`hot-add status ${res.status}`);
    }
    const addSecs = (performance.now() - t1) / 1000;
    stop = true;
    await Promise.all(searchers);
    const during = searchLat.splice(0);
    stop = false;
    const t2 = performance.now();
    const quiet = Array.from({ length: 4 }, searcher);
    await new Promise((r) => setTimeout(r, addSecs * 1000));
    stop = true;
    await Promise.all(quiet);
    const quietSecs = (performance.now() - t2) / 1000;
    emit({
      bench: "serve",
      impl: "http:hot-add-during-search",
      index: kind,
      references: n,
      adds,
      adds_per_s: +(adds / addSecs).toFixed(1),
      concurrent_searches_per_s: +(during.length / addSecs).toFixed(1),
      search_p50_ms: +pct(during, 0.5).toFixed(2),
      search_p99_ms: +pct(during, 0.99).toFixed(2),
      // The same 4 clients for as long, no hot-adds.
      no_add_searches_per_s: +(searchLat.length / quietSecs).toFixed(1),
      no_add_search_p50_ms: +pct(searchLat, 0.5).toFixed(2),
      no_add_search_p99_ms: +pct(searchLat, 0.99).toFixed(2),
    });
    await server.stop();
    // The hot-adds are in the store now: start the next kind from the same references.
    const s = await SqliteStore.open(join(dir, "likeness.db"), { dim: DIM });
    await s.load();
    await s.write({ delete: Array.from({ length: adds }, (_, i) => `new${i}`) });
    await s.close();
    if (!dataRoot) rmSync(dir, { recursive: true, force: true });
  }
}
backend.dispose();
