/**
 * `deno task bench:scale`: server replicas on one PostgreSQL + pgvector, on loopback, bounded.
 *
 * Starts its own throwaway cluster (tools/pg_setup.sh; needs `tools/pg_setup.sh install` first; the
 * bench raises shared_buffers to 1 GB and max_wal_size to 4 GB there and restarts it), fills it with
 * N × 128 seeded random references (a random map of 16 latent dimensions plus noise, like embeddings;
 * `--latent 0` for independent coordinates) (one transaction of 10,000 rows per write, the SQLite fill beside
 * it), then for 2 and 3 replicas (`serve --pg`, resident index) 8 clients send searches (k = 10)
 * round-robin over the replicas for a fixed time: requests/s and p50/p99, and recall@10 of one
 * pass over the 64 queries against exact cosine top-10 computed in the bench process.
 * Replication lag: a write acknowledged by replica A, polled on replica B until visible (p50/p99).
 * A Postgres restart during writes on two replicas: errors seen, acknowledged writes lost (must be 0).
 * Then the pgvector HNSW index is built (maintenance_work_mem 2 GB, progress printed) and 2 and 3
 * replicas search in Postgres (`--search postgres`, ef_search 40; 2 replicas also at 100 and 400;
 * the row says whether the planner picked the HNSW index).
 * Beside it, in the same run: one `serve --data` on the single-node SQLite store with the same N.
 * Every row says its search mode (`search`), its index (`index`) and the load average when it ended.
 *
 * Flags: --n N (default 100000), --seconds S per load phase (default 5), --skip-hnsw, --latent L (default 16),
 * --index flat|int8|binary|hnsw for the resident index of the SQLite node and the memory-mode
 * replicas (default int8: scalar-quantised codes scanned, the best candidates reranked in float32).
 * Progress goes to stderr; one JSON object per line to stdout, also appended to runs/bench/scale.jsonl.
 */
import process from "node:process";
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFile, execFileSync, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createRng } from "@likeness/core";
import { PgVectorStore, type ReferenceItem, SqliteStore } from "@likeness/server";
import postgres from "postgres";

const arg = (k: string, d: string) => {
  const i = process.argv.indexOf(`--${k}`);
  return i >= 0 ? process.argv[i + 1] : d;
};
const N = Number(arg("n", "100000"));
const SECONDS = Number(arg("seconds", "5"));
const skipHnsw = process.argv.includes("--skip-hnsw");
const INDEX = arg("index", "int8");
const LATENT = Number(arg("latent", "16"));
const DIM = 128;
const CLIENTS = 8;
const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? "bun" : "deno";
const SETUP = fileURLToPath(new URL("../tools/pg_setup.sh", import.meta.url));
const MAIN = fileURLToPath(new URL("../packages/server/main.ts", import.meta.url));

mkdirSync("runs/bench", { recursive: true });
const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const progress = (msg: string) =>
  console.error(`scale: ${new Date().toISOString().slice(11, 19)} ${msg} (load ${loadavg()})`);
const emit = (row: Record<string, unknown>) => {
  const line = JSON.stringify({ runtime, n: N, dim: DIM, latent: LATENT, ...row, loadavg: loadavg() });
  console.log(line);
  appendFileSync("runs/bench/scale.jsonl", line + "\n");
};
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN;
};
const r2 = (x: number) => Math.round(x * 100) / 100;

const rng = createRng(11);
/**
 * References and queries like embeddings: a seeded random map of a LATENT-dimensional standard
 * normal into 128 dimensions, plus 5 % noise (LATENT 0: every coordinate independent, no
 * structure at all, the hardest case for any approximate index).
 */
const mix = Float32Array.from({ length: DIM * LATENT }, () => rng.normal() / Math.sqrt(LATENT || 1));
function sample(out: Float32Array, o = 0): Float32Array {
  if (!LATENT) {
    for (let d = 0; d < DIM; d++) out[o + d] = rng.normal();
    return out;
  }
  const z = Array.from({ length: LATENT }, () => rng.normal());
  for (let d = 0; d < DIM; d++) {
    let s = 0.05 * rng.normal();
    for (let l = 0; l < LATENT; l++) s += mix[d * LATENT + l] * z[l];
    out[o + d] = s;
  }
  return out;
}
const randVec = () => sample(new Float32Array(DIM));
/** Every reference vector, row-major, for the exact top-10 the recall is measured against. */
const all = new Float32Array(N * DIM);
for (let i = 0; i < N; i++) sample(all, i * DIM);
const auth = { authorization: "Bearer b", "content-type": "application/json" };

interface Proc {
  base: string;
  stop(): Promise<void>;
}

function serve(args: string[]): Promise<Proc> {
  const child = spawn(process.execPath, [
    ...(runtime === "bun" ? ["run"] : ["run", "-A"]),
    MAIN,
    "--dim",
    String(DIM),
    "--port",
    "0",
    "--token",
    "b",
    ...args,
  ], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listen line: ${log}`)), Math.max(300_000, N * 0.9));
    const on = (d: Uint8Array) => {
      log += new TextDecoder().decode(d);
      const m = /http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve({
          base: `http://127.0.0.1:${m[1]}`,
          async stop() {
            child.kill("SIGTERM");
            await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
            if (child.exitCode === null) child.kill("SIGKILL");
          },
        });
      }
    };
    child.stdout!.on("data", on);
    child.stderr!.on("data", on);
    child.on("exit", () => reject(new Error(`server exited: ${log}`)));
  });
}

const queries = Array.from({ length: 64 }, () => Array.from(randVec()));

/** Exact cosine top-10 ids of every query over `all`. */
function exactTop10(): string[][] {
  const norms = new Float32Array(N);
  for (let i = 0; i < N; i++) {
    let s = 0;
    for (let d = 0; d < DIM; d++) s += all[i * DIM + d] ** 2;
    norms[i] = Math.sqrt(s) || 1;
  }
  return queries.map((q) => {
    const best: { i: number; s: number }[] = [];
    for (let i = 0; i < N; i++) {
      let s = 0;
      const o = i * DIM;
      for (let d = 0; d < DIM; d++) s += q[d] * all[o + d];
      s /= norms[i];
      if (best.length < 10 || s > best[best.length - 1].s) {
        best.push({ i, s });
        best.sort((a, b) => b.s - a.s);
        if (best.length > 10) best.pop();
      }
    }
    return best.map((b) => `r${b.i}`);
  });
}
let exact: string[][] = [];

/** recall@10 of one pass over the queries against the exact top-10. */
async function recall(p: Proc): Promise<number> {
  let hit = 0;
  for (const [qi, q] of queries.entries()) {
    const res = await fetch(`${p.base}/v1/search`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ vector: q, k: 10 }),
    });
    const got = new Set(((await res.json()).results as { id: string }[]).map((h) => h.id));
    hit += exact[qi].filter((id) => got.has(id)).length;
  }
  return Math.round((hit / (10 * queries.length)) * 1000) / 1000;
}

/** 8 clients, round-robin over the replicas, for SECONDS. */
async function load(
  procs: Proc[],
  seconds = SECONDS,
): Promise<{ rps: number; p50: number; p99: number; errors: number }> {
  if (seconds === SECONDS) await load(procs, 1); // warm-up (JIT, connections), not counted
  const lat: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  let q = 0;
  await Promise.all(Array.from({ length: CLIENTS }, async (_, c) => {
    let i = c;
    while (performance.now() < end) {
      const p = procs[i++ % procs.length];
      const t0 = performance.now();
      const res = await fetch(`${p.base}/v1/search`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ vector: queries[q++ % queries.length], k: 10 }),
      });
      await res.arrayBuffer();
      if (res.status === 200) lat.push(performance.now() - t0);
      else errors++;
    }
  }));
  return { rps: r2(lat.length / seconds), p50: r2(pct(lat, 0.5)), p99: r2(pct(lat, 0.99)), errors };
}

/** Write on A, poll B until visible. */
async function lag(a: Proc, b: Proc, samples = 50): Promise<{ p50: number; p99: number }> {
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const id = `lag-${Date.now()}-${i}`;
    const res = await fetch(`${a.base}/v1/references`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ items: [{ id, label: "lag", vector: Array.from(randVec()) }] }),
    });
    await res.arrayBuffer();
    const t0 = performance.now();
    for (;;) {
      const r = await fetch(`${b.base}/v1/references/${id}`);
      await r.arrayBuffer();
      if (r.status === 200) break;
      if (performance.now() - t0 > 10_000) throw new Error(`${id} not visible on B after 10 s`);
    }
    out.push(performance.now() - t0);
  }
  return { p50: r2(pct(out, 0.5)), p99: r2(pct(out, 0.99)) };
}

const items = (from: number, to: number): ReferenceItem[] =>
  Array.from(
    { length: to - from },
    (_, j) => ({
      id: `r${from + j}`,
      label: `c${(from + j) % 100}`,
      vector: all.subarray((from + j) * DIM, (from + j + 1) * DIM),
    }),
  );

const dir = mkdtempSync(join(tmpdir(), "likeness-bench-scale-"));
const pgDir = join(dir, "pg");
const url = execFileSync("bash", [SETUP, "start", pgDir], { encoding: "utf8" }).trim();
const restartPg = () =>
  new Promise<void>((res, rej) => execFile("bash", [SETUP, "restart", pgDir], (e) => e ? rej(e) : res()));
const procs: Proc[] = [];
/** The bench's own SQL connection (settings, progress, the lost-writes check). */
let raw = postgres(url, { max: 2, onnotice: () => {} });
try {
  // Room for the table and the HNSW graph in shared buffers, and no checkpoint storm during the fill.
  await raw.unsafe(`alter system set shared_buffers = '1GB'`);
  await raw.unsafe(`alter system set max_wal_size = '4GB'`);
  await raw.end();
  await restartPg();
  raw = postgres(url, { max: 2, onnotice: () => {} });
  const table = "bench_refs";
  const store = await PgVectorStore.connect({ url, dim: DIM, table, acquireTimeoutMs: 600_000 });
  const sqlite = await SqliteStore.open(join(dir, "sq", "likeness.db"), { dim: DIM });
  let t0 = performance.now();
  let pgMs = 0;
  let sqMs = 0;
  const BATCH = 10_000;
  const tFill = performance.now();
  for (let i = 0; i < N; i += BATCH) {
    const batch = items(i, Math.min(N, i + BATCH));
    // The two stores fill side by side (SQLite commits in its writer thread); each timed alone.
    const tp = performance.now();
    await Promise.all([
      store.write({ put: batch }).then(() => pgMs += performance.now() - tp),
      sqlite.write({ put: batch }).then(() => sqMs += performance.now() - tp),
    ]);
    if ((i / BATCH) % 10 === 9) progress(`filled ${i + BATCH} of ${N}`);
  }
  await sqlite.close();
  emit({
    phase: "fill",
    batch: BATCH,
    wall_s: r2((performance.now() - tFill) / 1000),
    postgres_rows_per_s: Math.round(N / (pgMs / 1000)),
    sqlite_rows_per_s: Math.round(N / (sqMs / 1000)),
  });
  t0 = performance.now();
  exact = exactTop10();
  progress(`exact top-10 of ${queries.length} queries in ${r2((performance.now() - t0) / 1000)} s`);

  // Single node SQLite, same references, same clients.
  t0 = performance.now();
  const sq = await serve(["--data", join(dir, "sq"), "--index", INDEX]);
  const sqStart = performance.now() - t0;
  progress(`sqlite node listening after ${Math.round(sqStart)} ms`);
  emit({
    phase: "search",
    store: "sqlite",
    replicas: 1,
    search: "memory",
    index: INDEX,
    start_ms: Math.round(sqStart),
    ...(await load([sq])),
    recall_at_10: await recall(sq),
  });
  await sq.stop();

  const starts: number[] = [];
  for (const r of [2, 3]) {
    while (procs.length < r) {
      t0 = performance.now();
      procs.push(await serve(["--pg", url, "--pg-table", table, "--index", INDEX]));
      starts.push(Math.round(performance.now() - t0));
      progress(`replica ${procs.length} (memory, ${INDEX}) listening after ${starts.at(-1)} ms`);
    }
    emit({
      phase: "search",
      store: "postgres",
      replicas: r,
      search: "memory",
      index: INDEX,
      start_ms_each: [...starts],
      ...(await load(procs)),
      recall_at_10: await recall(procs[0]),
    });
  }
  emit({ phase: "replication_lag", replicas: 3, ...(await lag(procs[0], procs[1])) });
  progress("replication lag measured; restarting Postgres under writes");

  // Restart Postgres while two replicas take writes.
  const acked: string[] = [];
  const statuses: Record<string, number> = {};
  let flowing = true;
  let seq = 0;
  const writer = async (p: Proc) => {
    while (flowing) {
      const id = `w${seq++}`;
      try {
        const res = await fetch(`${p.base}/v1/references`, {
          method: "POST",
          headers: auth,
          body: JSON.stringify({ items: [{ id, label: "w", vector: Array.from(randVec()) }] }),
        });
        await res.arrayBuffer();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (res.status === 200) acked.push(id);
        else await new Promise((r) => setTimeout(r, 50));
      } catch {
        statuses.network = (statuses.network ?? 0) + 1;
      }
    }
  };
  const writers = [writer(procs[0]), writer(procs[1])];
  await new Promise((r) => setTimeout(r, 1000));
  const tr = performance.now();
  await raw.end();
  await restartPg();
  const restartMs = performance.now() - tr;
  await new Promise((r) => setTimeout(r, 2000));
  flowing = false;
  await Promise.all(writers);
  raw = postgres(url, { max: 2, onnotice: () => {} });
  const present = await raw.unsafe(
    `select count(*)::int as n from ${table} where id = any($1::text[]) and deleted_at is null`,
    [acked],
  );
  const lost = acked.length - Number(present[0].n);
  emit({ phase: "postgres_restart", restart_ms: Math.round(restartMs), acknowledged: acked.length, statuses, lost });
  for (const p of procs.splice(0)) await p.stop();

  if (!skipHnsw) {
    progress("building the pgvector HNSW index (m 16, ef_construction 64, maintenance_work_mem 2 GB)");
    t0 = performance.now();
    const building = store.ensureHnswIndex({ maintenanceWorkMemMb: 2048 });
    const ticker = setInterval(async () => {
      try {
        const [p] = await raw.unsafe(
          `select phase, tuples_done::text as done, tuples_total::text as total from pg_stat_progress_create_index`,
        );
        progress(`hnsw build: ${p ? `${p.phase}, ${p.done}/${p.total} tuples` : "finishing"}`);
      } catch { /* progress only */ }
    }, 30_000);
    try {
      await building;
    } finally {
      clearInterval(ticker);
    }
    const [sz] = await raw.unsafe(`select pg_relation_size('${table}_hnsw')::text as b`);
    // Fresh statistics, so the planner costs the HNSW scan against a sequential scan on real numbers.
    await raw.unsafe(`analyze ${table}`);
    const plan = await raw.begin(async (t) => {
      await t.unsafe(`set local hnsw.ef_search = 40`);
      const rows = await t.unsafe(
        `explain select id from ${table} where deleted_at is null order by embedding <=> $1::vector limit 10`,
        [`[${queries[0].join(",")}]`],
      );
      return rows.map((r) => String(r["QUERY PLAN"])).join(" | ");
    });
    emit({
      phase: "hnsw_build",
      m: 16,
      ef_construction: 64,
      maintenance_work_mem_mb: 2048,
      s: r2((performance.now() - t0) / 1000),
      index_mb: Math.round(Number(sz.b) / 2 ** 20),
      uses_index: plan.includes(`${table}_hnsw`),
    });
    for (const [r, ef] of [[2, 40], [3, 40], [2, 100], [2, 400]]) {
      const startsPg: number[] = [];
      while (procs.length < r) {
        t0 = performance.now();
        procs.push(await serve(["--pg", url, "--pg-table", table, "--search", "postgres", "--ef-search", String(ef)]));
        startsPg.push(Math.round(performance.now() - t0));
      }
      progress(`${r} replicas searching in Postgres (ef_search ${ef})`);
      emit({
        phase: "search",
        store: "postgres",
        replicas: r,
        search: "postgres",
        index: "pgvector-hnsw",
        ef_search: ef,
        start_ms_each: startsPg,
        ...(await load(procs)),
        recall_at_10: await recall(procs[0]),
      });
      for (const p of procs.splice(0)) await p.stop();
    }
  }
  await store.close();
} finally {
  for (const p of procs) await p.stop();
  await raw.end({ timeout: 1 }).catch(() => {});
  execFileSync("bash", [SETUP, "stop", pgDir]);
  // The cluster and the SQLite file are 3-4 GB at 1,000,000 rows: nothing is kept.
  rmSync(dir, { recursive: true, force: true });
}
