// Restart cost of the server's reference index over its SQLite store, before and after the index
// snapshot: fill DIR/likeness.db with N × D references (once), then time
//   1. "full": opening the store (quick_check, WAL check), loading every row (checksums verified),
//      adding them to the ReferenceIndex and building its resident index (what a start without a
//      usable snapshot does);
//   2. writing the index snapshot DIR/likeness.index;
//   3. "snapshot": after --later writes (puts, updates, deletes), opening the store again and
//      loading the snapshot plus the store's changes after it (what a start with one does),
//      checked against the full load (same size, same search results);
//   4. with --process: a real `serve --dim D --data DIR` process, wall time from spawn to
//      listening, with the snapshot and with --snapshot off.
//   5. with --restart N (alone: steps 1-4 are skipped): N real `serve` restarts from the snapshot
//      (one is written first when DIR has none), one JSON row each: wall seconds from spawn to
//      listening, the server's CPU seconds to that point (every thread) and its start phases
//      (wall/cpu ms, as `serve` logs them).
// `deno run -A bench/store_load_main.ts [--n 1000000] [--dim 128] [--dir DIR] [--later 1000]
// [--index flat] [--process] [--restart N]` (Bun: `bun bench/store_load_main.ts ...`). Prints JSON lines.
import process from "node:process";
import { spawn } from "node:child_process";
import { existsSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { loadavg, tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { createBackend, type IndexKind } from "@likeness/backend";
import { openReferenceIndex, type ReferenceItem, SnapshotWriter, SqliteStore } from "@likeness/server";

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const n = Number(arg("n", "1000000"));
const dim = Number(arg("dim", "128"));
const later = Number(arg("later", "1000"));
const kind = arg("index", "flat") as IndexKind;
const dir = arg("dir", join(tmpdir(), `likeness-load-${n}x${dim}`));
const file = join(dir, "likeness.db");
const snapPath = join(dir, "likeness.index");
const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? "bun" : "deno";
const s2 = (ms: number) => +(ms / 1000).toFixed(2);
const load = () => +loadavg()[0].toFixed(2);

let seed = 1;
const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5;
if (!existsSync(file)) {
  const t0 = performance.now();
  const s = await SqliteStore.open(file, { dim });
  await s.load();
  for (let i = 0; i < n; i += 10_000) {
    const put = [];
    for (let j = i; j < Math.min(n, i + 10_000); j++) {
      put.push({ id: `ref-${j}`, label: `c${j % 100}`, vector: Float32Array.from({ length: dim }, rand) });
    }
    await s.write({ put });
  }
  await s.close();
  console.error(`filled ${file} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
const MAIN = fileURLToPath(new URL("../packages/server/main.ts", import.meta.url));
/** A real `serve --dim D --data DIR` process: ms from spawn to listening, and its log to then. */
function serve(extra: string[], stopWith: "SIGKILL" | "SIGTERM" = "SIGKILL") {
  return new Promise<{ ms: number; log: string }>((resolve, reject) => {
    const t = performance.now();
    const child = spawn(
      process.execPath,
      [
        ...(runtime === "bun" ? ["run"] : ["run", "-A"]),
        MAIN,
        "--dim",
        String(dim),
        "--data",
        dir,
        "--port",
        "0",
        "--index",
        kind,
        "--snapshot-interval",
        "0",
        ...extra,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let log = "", ms = -1;
    const on = (d: Uint8Array) => {
      log += new TextDecoder().decode(d);
      if (ms < 0 && /http:\/\/127\.0\.0\.1:\d+/.test(log) && /start phases/.test(log)) {
        ms = performance.now() - t;
        child.kill(stopWith);
      }
    };
    child.stdout!.on("data", on);
    child.stderr!.on("data", on);
    child.on("close", () => ms < 0 ? reject(new Error(`serve exited before listening: ${log}`)) : resolve({ ms, log }));
    child.on("error", reject);
  });
}

if (process.argv.includes("--restart")) {
  const runs = Number(arg("restart", "3"));
  if (!existsSync(snapPath)) {
    // A start without a snapshot writes one; SIGTERM waits for it.
    await serve([], "SIGTERM");
    if (!existsSync(snapPath)) throw new Error(`no snapshot was written at ${snapPath}`);
  }
  for (let r = 0; r < runs; r++) {
    const { ms, log } = await serve([]);
    const phases: Record<string, [number, number]> = {};
    for (const line of log.split("\n")) {
      const m = /(?:start phases|index opened).*?\((?:wall ms \/ cpu ms\)|wall\/cpu ms): ([^)]*)/.exec(line);
      if (!m) continue;
      for (const part of m[1].split(", ")) {
        const pm = /^(\S+) (\d+)\/(\d+|\?)/.exec(part.trim());
        if (pm) phases[pm[1]] = [Number(pm[2]), Number(pm[3])];
      }
    }
    const top = ["runtime", "backend", "model", "store_open", "index", "quick_check_wait", "listen"];
    const cpuS = top.reduce((a, k) => a + (phases[k]?.[1] ?? 0), 0) / 1000;
    console.log(JSON.stringify({
      bench: "store_load",
      path: "restart",
      runtime,
      index: kind,
      n,
      dim,
      source: /from its snapshot/.test(log) ? "snapshot" : "store",
      restart_s: s2(ms),
      cpu_s: +cpuS.toFixed(2),
      phases_wall_cpu_ms: phases,
      load1: load(),
    }));
  }
  process.exit(0);
}

// CPU seconds beside wall seconds: on a shared machine the wall clock measures the neighbours too.
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const { backend } = await createBackend({ tf: false });

// 1. Full load (no snapshot).
rmSync(snapPath, { force: true });
let c0 = cpu(), t0 = performance.now();
let store = await SqliteStore.open(file, { dim });
const openMs = performance.now() - t0;
const full = await openReferenceIndex({ store, dim, backend, index: { kind } });
const fullMs = performance.now() - t0, fullCpu = cpu() - c0;
console.log(JSON.stringify({
  bench: "store_load",
  path: "full",
  runtime,
  index: kind,
  n: full.index.size,
  dim,
  open_s: s2(openMs),
  load_and_build_s: s2(full.ms),
  total_s: s2(fullMs),
  cpu_s: +fullCpu.toFixed(2),
  load1: load(),
}));

// 2. Write the snapshot.
c0 = cpu();
t0 = performance.now();
const writer = new SnapshotWriter({ path: snapPath, index: full.index, store, backend, intervalMs: 0 });
await writer.write();
console.log(JSON.stringify({
  bench: "store_load",
  path: "snapshot_write",
  runtime,
  index: kind,
  s: s2(performance.now() - t0),
  cpu_s: +(cpu() - c0).toFixed(2),
  mb: +(statSync(snapPath).size / 2 ** 20).toFixed(1),
}));
await writer.close();

// Later writes: half new items, a quarter updates, a quarter deletes.
const puts: ReferenceItem[] = [];
for (let i = 0; i < later / 2; i++) {
  puts.push({ id: `later-${i}`, label: `c${i % 100}`, vector: Float32Array.from({ length: dim }, rand) });
}
for (let i = 0; i < later / 4; i++) {
  puts.push({ id: `ref-${i * 7}`, label: `c${i % 100}`, vector: Float32Array.from({ length: dim }, rand) });
}
const dels = Array.from({ length: later / 4 }, (_, i) => `ref-${i * 7 + 3}`);
await store.write({ put: puts, delete: dels });
full.index.upsert(puts);
for (const id of dels) full.index.delete(id);
const queries = { data: Float32Array.from({ length: 20 * dim }, rand), rows: 20, cols: dim };
const fullRes = await (await full.index.resident(backend)).search(queries, { k: 10 });
await store.close();

// 3. Restart from the snapshot plus the later changes.
c0 = cpu();
t0 = performance.now();
store = await SqliteStore.open(file, { dim });
const openMs2 = performance.now() - t0;
const snap = await openReferenceIndex({ store, dim, backend, index: { kind }, snapshotPath: snapPath });
const snapMs = performance.now() - t0, snapCpu = cpu() - c0;
const snapRes = await (await snap.index.resident(backend)).search(queries, { k: 10 });
const same = snap.source === "snapshot" && snap.index.size === full.index.size &&
  snapRes.ids.every((id, i) => id === fullRes.ids[i]);
console.log(JSON.stringify({
  bench: "store_load",
  path: "snapshot",
  runtime,
  index: kind,
  n: snap.index.size,
  dim,
  later_changes: snap.applied,
  source: snap.source,
  ...(snap.fallback ? { fallback: snap.fallback } : {}),
  open_s: s2(openMs2),
  load_and_build_s: s2(snap.ms),
  total_s: s2(snapMs),
  cpu_s: +snapCpu.toFixed(2),
  speedup: +(fullMs / snapMs).toFixed(1),
  same_results: same,
  load1: load(),
}));
await store.close();
full.index.dispose();
snap.index.dispose();
backend.dispose();

// 4. Whole server processes: spawn to listening.
if (process.argv.includes("--process")) {
  const withSnap = (await serve([])).ms;
  const without = (await serve(["--snapshot", "off"])).ms;
  console.log(JSON.stringify({
    bench: "store_load",
    path: "process",
    runtime,
    index: kind,
    n,
    dim,
    snapshot_s: s2(withSnap),
    no_snapshot_s: s2(without),
    ratio: +(without / withSnap).toFixed(1),
    load1: load(),
  }));
}
