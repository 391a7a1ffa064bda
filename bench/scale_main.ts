/**
 * `deno task bench:scale`: server replicas on one PostgreSQL + pgvector, on loopback, bounded.
 *
 * Starts its own throwaway cluster (tools/pg_setup.sh; needs `tools/pg_setup.sh install` first),
 * fills it with N × 128 seeded random references, then for 2 and 3 replicas (`serve --pg`, resident
 * index) and for 2 replicas searching in Postgres (`--search postgres`, pgvector HNSW): 8 clients
 * send searches (k = 10) round-robin over the replicas for a fixed time; requests/s and p50/p99.
 * Replication lag: a write acknowledged by replica A, polled on replica B until visible (p50/p99).
 * A Postgres restart during writes on two replicas: errors seen, acknowledged writes lost (must be 0).
 * Beside it, in the same run: one `serve --data` on the single-node SQLite store with the same N.
 *
 * Flags: --n N (default 100000), --seconds S per load phase (default 5), --skip-hnsw,
 * --index flat|int8|binary|hnsw for the resident index of the SQLite node and the memory-mode replicas (default flat).
 * One JSON object per line; also appended to runs/bench/scale.jsonl.
 */
import process from "node:process";
import { appendFileSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFile, execFileSync, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createRng } from "@likeness/core";
import { PgVectorStore, type ReferenceItem, SqliteStore } from "@likeness/server";

const arg = (k: string, d: string) => {
  const i = process.argv.indexOf(`--${k}`);
  return i >= 0 ? process.argv[i + 1] : d;
};
const N = Number(arg("n", "100000"));
const SECONDS = Number(arg("seconds", "5"));
const skipHnsw = process.argv.includes("--skip-hnsw");
const INDEX = arg("index", "flat");
const DIM = 128;
const CLIENTS = 8;
const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? "bun" : "deno";
const SETUP = fileURLToPath(new URL("../tools/pg_setup.sh", import.meta.url));
const MAIN = fileURLToPath(new URL("../packages/server/main.ts", import.meta.url));

mkdirSync("runs/bench", { recursive: true });
const emit = (row: Record<string, unknown>) => {
  const line = JSON.stringify({ runtime, n: N, dim: DIM, index: INDEX, ...row });
  console.log(line);
  appendFileSync("runs/bench/scale.jsonl", line + "\n");
};
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN;
};
const r2 = (x: number) => Math.round(x * 100) / 100;

const rng = createRng(11);
const randVec = () => Float32Array.from({ length: DIM }, () => rng.normal());
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
    const timer = setTimeout(() => reject(new Error(`no listen line: ${log}`)), 300_000);
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
    (_, j) => ({ id: `r${from + j}`, label: `c${(from + j) % 100}`, vector: randVec() }),
  );

const dir = mkdtempSync(join(tmpdir(), "likeness-bench-scale-"));
const url = execFileSync("bash", [SETUP, "start", join(dir, "pg")], { encoding: "utf8" }).trim();
const procs: Proc[] = [];
try {
  const table = "bench_refs";
  const store = await PgVectorStore.connect({ url, dim: DIM, table });
  const sqlite = await SqliteStore.open(join(dir, "sq", "likeness.db"), { dim: DIM });
  let t0 = performance.now();
  let pgMs = 0;
  let sqMs = 0;
  for (let i = 0; i < N; i += 2000) {
    const batch = items(i, Math.min(N, i + 2000));
    t0 = performance.now();
    await store.write({ put: batch });
    pgMs += performance.now() - t0;
    t0 = performance.now();
    await sqlite.write({ put: batch });
    sqMs += performance.now() - t0;
  }
  await sqlite.close();
  emit({
    phase: "fill",
    postgres_rows_per_s: Math.round(N / (pgMs / 1000)),
    sqlite_rows_per_s: Math.round(N / (sqMs / 1000)),
  });

  // Single node SQLite, same references, same clients.
  t0 = performance.now();
  const sq = await serve(["--data", join(dir, "sq"), "--index", INDEX]);
  const sqStart = performance.now() - t0;
  emit({
    phase: "search",
    store: "sqlite",
    replicas: 1,
    mode: "memory",
    start_ms: Math.round(sqStart),
    ...(await load([sq])),
  });
  await sq.stop();

  for (const r of [2, 3]) {
    t0 = performance.now();
    while (procs.length < r) procs.push(await serve(["--pg", url, "--pg-table", table, "--index", INDEX]));
    const startMs = (performance.now() - t0) / (r === 2 ? 2 : 1);
    emit({
      phase: "search",
      store: "postgres",
      replicas: r,
      mode: "memory",
      start_ms_per_replica: Math.round(startMs),
      ...(await load(procs)),
    });
  }
  emit({ phase: "replication_lag", replicas: 3, ...(await lag(procs[0], procs[1])) });

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
  await new Promise<void>((res, rej) =>
    execFile("bash", [SETUP, "restart", join(dir, "pg")], (e) => e ? rej(e) : res())
  );
  const restartMs = performance.now() - tr;
  await new Promise((r) => setTimeout(r, 2000));
  flowing = false;
  await Promise.all(writers);
  const check = await PgVectorStore.connect({ url, dim: DIM, table });
  const live = new Set((await check.load()).map((it) => it.id));
  await check.close();
  const lost = acked.filter((id) => !live.has(id)).length;
  emit({ phase: "postgres_restart", restart_ms: Math.round(restartMs), acknowledged: acked.length, statuses, lost });
  for (const p of procs.splice(0)) await p.stop();

  if (!skipHnsw) {
    t0 = performance.now();
    await store.ensureHnswIndex();
    emit({ phase: "hnsw_build", ms: Math.round(performance.now() - t0) });
    for (const ef of [40, 100]) {
      while (procs.length < 2) {
        procs.push(await serve(["--pg", url, "--pg-table", table, "--search", "postgres", "--ef-search", String(ef)]));
      }
      emit({
        phase: "search",
        store: "postgres",
        replicas: 2,
        mode: "postgres",
        ef_search: ef,
        ...(await load(procs)),
      });
      for (const p of procs.splice(0)) await p.stop();
    }
  }
  await store.close();
} finally {
  for (const p of procs) await p.stop();
  execFileSync("bash", [SETUP, "stop", join(dir, "pg")]);
}
