// Restart cost of the SQLite reference store: fill a file with N × D references (once), then time
// opening it (quick_check, WAL check), loading every row (checksums verified) and building the
// resident index from it. `deno run -A bench/store_load_main.ts [--n 1000000] [--dim 128] [--file F]`
// (Bun: `bun bench/store_load_main.ts ...`). Prints one JSON line.
import process from "node:process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { ReferenceIndex, SqliteStore } from "@likeness/server";

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const n = Number(arg("n", "1000000"));
const dim = Number(arg("dim", "128"));
const file = arg("file", join(tmpdir(), `likeness-load-${n}x${dim}.db`));
const runtime = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined" ? "bun" : "deno";

if (!existsSync(file)) {
  const t0 = performance.now();
  const s = await SqliteStore.open(file, { dim });
  await s.load();
  let seed = 1;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5;
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
// CPU seconds beside wall seconds: on a shared machine the wall clock measures the neighbours too.
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const c0 = cpu();
const t0 = performance.now();
const s = await SqliteStore.open(file, { dim });
const t1 = performance.now();
const c1 = cpu();
const items = await s.load();
const t2 = performance.now();
const c2 = cpu();
const index = new ReferenceIndex(dim, items.length);
index.upsert(items);
const t3 = performance.now();
const c3 = cpu();
await s.close();
console.log(JSON.stringify({
  bench: "store_load",
  runtime,
  n: items.length,
  dim,
  open_s: +((t1 - t0) / 1000).toFixed(2),
  load_s: +((t2 - t1) / 1000).toFixed(2),
  index_s: +((t3 - t2) / 1000).toFixed(2),
  total_s: +((t3 - t0) / 1000).toFixed(2),
  open_cpu_s: +(c1 - c0).toFixed(2),
  load_cpu_s: +(c2 - c1).toFixed(2),
  index_cpu_s: +(c3 - c2).toFixed(2),
}));
