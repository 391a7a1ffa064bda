/**
 * `deno task serve --model DIR --data DIR --port N [--token T]` (and `bun run serve ...`).
 * Entry point: parses flags, opens the durable store, loads the model, serves on loopback or
 * the given host. The token may also come from LIKENESS_TOKEN.
 *
 * Flags:
 *   --model DIR     servable artifact directory (from SimilarityModel.save)
 *   --dim N         serve a vector-only index of dimension N instead of a model
 *   --data DIR      reference store directory (default ./data): SQLite file DIR/likeness.db
 *   --read-only     serve DIR as a read-only replica of the server that writes it (sees its commits
 *                   within a second; writes answer 409)
 *   --port N        TCP port (default 8787; 0 picks a free one)
 *   --host H        bind address (default 127.0.0.1)
 *   --token T       bearer token for writes (default $LIKENESS_TOKEN)
 *   --protect-reads require the token for reads too (also health details, /metrics, /v1/openapi.json)
 *   --body-timeout MS  a request body must arrive within MS milliseconds (default 10000; 408 after)
 *   --header-timeout MS  a connection must finish its request headers within MS milliseconds
 *                   (default 10000; then it is closed). Deno: enforced by the server; Bun: Bun.serve
 *                   has no setting and cuts them after its own fixed 10 s
 *   --idle-timeout S   close a keep-alive connection idle for S seconds (default 30; 1..255)
 *   --backend NAME  compute backend (default auto; also $LIKENESS_BACKEND)
 *   --threads N     Worker threads of the WebAssembly kernels that search the resident index (default 1);
 *                   with --index hnsw also the threads that build its graph (at most 16)
 *   --index KIND    resident reference index: flat (exact, default), int8, binary, hnsw (approximate)
 *   --hnsw-m N, --hnsw-ef-construction N, --hnsw-ef-search N, --hnsw-seed N, --hnsw-codes float32|int8
 *                   (what the search walks on: rows, or int8 codes with a float32 rerank; not part of the
 *                   graph, so a snapshot of either serves both)
 *                   HNSW parameters (defaults 16, 200, 64, 42; ranges in @likeness/backend HNSW_PARAM_RANGES)
 *   --snapshot on|off  keep an index snapshot DIR/likeness.index beside the SQLite store, so a restart
 *                   loads it plus the later changes instead of every vector (default on)
 *   --snapshot-every N     write it after N changes (default 10000)
 *   --snapshot-interval S  and every S seconds when something changed (default 300; 0 = only by count
 *                   and on shutdown)
 *   --qdrant URL    keep references in a Qdrant collection instead of --data
 *   --collection C  Qdrant collection name (default likeness)
 *   --pg URL        keep references in PostgreSQL + pgvector, shared by many replicas; with
 *                   --pg-table T, --pg-pool N, --search memory|postgres, --ef-search N,
 *                   --pg-tombstone-retention D (see pg_flags.ts)
 */
import process from "node:process";
import { isLikenessError } from "@likeness/core";
import { type BackendName, createBackend, HNSW_PARAM_RANGES, INDEX_KINDS, type IndexKind } from "@likeness/backend";
import type { ReferenceIndexOptions } from "./reference_index.ts";
import { createApp } from "./app.ts";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { LikenessError } from "@likeness/core";
import { SqliteStore } from "./sqlite_store.ts";
import { QdrantStore } from "./qdrant_store.ts";
import { openPgStore } from "./pg_flags.ts";
import { type ServedModel, vectorOnlyModel } from "./model.ts";
import { serveFetch } from "./runtime_serve.ts";
import { loadServedModel } from "./load_model.ts";

const HELP = `likeness serve: the inference server

Usage: serve --model DIR [--data DIR [--read-only] | --qdrant URL [--collection C] | --pg URL [--pg-table T]
             [--search memory|postgres] [--ef-search N] [--pg-pool N]
             [--pg-tombstone-retention D]] [--port N] [--host H]
             [--token T] [--protect-reads] [--backend NAME] [--threads N]
             [--index flat|int8|binary|hnsw [--hnsw-m N] [--hnsw-ef-construction N] [--hnsw-ef-search N]
             [--hnsw-codes float32|int8]]
             [--snapshot on|off] [--snapshot-every N] [--snapshot-interval S]
             [--body-timeout MS] [--header-timeout MS] [--idle-timeout S]
       serve --dim N ...            (vector-only index, no encoder)

The token may also be given as LIKENESS_TOKEN. Writes (POST/DELETE /v1/references) need
"Authorization: Bearer <token>" when a token is set.

Slow and idle clients: a request's headers must arrive within --header-timeout ms (default 10000;
Bun.serve cuts them at its own fixed 10 s), its body within --body-timeout ms (default 10000; 408,
then the connection is closed), and a keep-alive connection idle for --idle-timeout s (default 30)
is closed.`;

/** CPU milliseconds this process used so far (all threads). */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Parse `--flag value` pairs and boolean flags. */
export function parseFlags(argv: string[]): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) throw new Error(`Unexpected argument "${a}"; flags look like --port 8787`);
    const eq = a.indexOf("=");
    const k = eq < 0 ? a.slice(2) : a.slice(2, eq);
    if (eq >= 0) out[k] = a.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) out[k] = argv[++i];
    else out[k] = true;
  }
  return out;
}

/**
 * The bearer token from `--token` or the environment. An empty or missing value is an error,
 * never a silent "no auth": `--token=`, `--token ""` and `--token --next-flag` all throw.
 *
 * @param flags parsed flags
 * @param env the value of LIKENESS_TOKEN, if set
 * @returns the token, or undefined when neither is given
 * @throws {Error} when the flag or the variable is present but empty
 */
export function tokenOf(flags: Record<string, string | boolean>, env: string | undefined): string | undefined {
  if ("token" in flags) {
    const t = flags.token;
    if (typeof t !== "string" || t.trim() === "") {
      throw new Error(
        '--token needs a non-empty value (e.g. --token "$(openssl rand -hex 16)"); refusing to start without auth',
      );
    }
    return t;
  }
  if (env !== undefined && env.trim() === "") {
    throw new Error("LIKENESS_TOKEN is set but empty; unset it or give a token; refusing to start without auth");
  }
  return env;
}

const HNSW_FLAGS = {
  "hnsw-m": "M",
  "hnsw-ef-construction": "efConstruction",
  "hnsw-ef-search": "efSearch",
  "hnsw-seed": "seed",
} as const;

/**
 * The resident index kind and HNSW parameters from `--index` and `--hnsw-*` (ranges as declared
 * by `HNSW_PARAM_RANGES`).
 *
 * @param flags parsed flags
 * @returns kind and parameters
 * @throws {Error} for an unknown kind, a value out of range, or `--hnsw-*` without `--index hnsw`
 */
export function indexOf(flags: Record<string, string | boolean>): ReferenceIndexOptions {
  const kind = flags.index === undefined ? "flat" : flags.index;
  if (typeof kind !== "string" || !(INDEX_KINDS as readonly string[]).includes(kind)) {
    throw new Error(`--index must be one of ${INDEX_KINDS.join(", ")}, got ${JSON.stringify(kind)}`);
  }
  const hnsw: Record<string, number> = {};
  for (const [flag, key] of Object.entries(HNSW_FLAGS)) {
    if (flags[flag] === undefined) continue;
    if (kind !== "hnsw") throw new Error(`--${flag} applies to --index hnsw only (the index is ${kind})`);
    const [lo, hi] = HNSW_PARAM_RANGES[key];
    const v = Number(flags[flag]);
    if (!Number.isInteger(v) || v < lo || v > hi) {
      throw new Error(`--${flag} must be an integer from ${lo} to ${hi}, got ${JSON.stringify(flags[flag])}`);
    }
    hnsw[key] = v;
  }
  const codes = flags["hnsw-codes"];
  let walk: { codes?: "float32" | "int8" } = {};
  if (codes !== undefined) {
    if (kind !== "hnsw") throw new Error(`--hnsw-codes applies to --index hnsw only (the index is ${kind})`);
    if (codes !== "float32" && codes !== "int8") {
      throw new Error(`--hnsw-codes must be float32 or int8, got ${JSON.stringify(codes)}`);
    }
    walk = { codes };
  }
  return { kind: kind as IndexKind, ...(kind === "hnsw" ? { hnsw: { ...hnsw, ...walk } } : {}) };
}

/**
 * The index snapshot settings from `--snapshot`, `--snapshot-every` and `--snapshot-interval`.
 *
 * @param flags parsed flags
 * @param dir the data directory
 * @returns the snapshot options, or undefined with `--snapshot off`
 * @throws {Error} for a bad value
 */
export function snapshotOf(
  flags: Record<string, string | boolean>,
  dir: string,
): { path: string; everyChanges: number; intervalMs: number } | undefined {
  const on = flags.snapshot === undefined ? "on" : flags.snapshot;
  if (on !== "on" && on !== "off") throw new Error(`--snapshot must be on or off, got ${JSON.stringify(on)}`);
  const every = flags["snapshot-every"] === undefined ? 10_000 : Number(flags["snapshot-every"]);
  if (!Number.isInteger(every) || every < 1) {
    throw new Error(`--snapshot-every must be a positive integer, got ${JSON.stringify(flags["snapshot-every"])}`);
  }
  const interval = flags["snapshot-interval"] === undefined ? 300 : Number(flags["snapshot-interval"]);
  if (!Number.isFinite(interval) || interval < 0) {
    throw new Error(
      `--snapshot-interval must be a number of seconds ≥ 0, got ${JSON.stringify(flags["snapshot-interval"])}`,
    );
  }
  if (on === "off") return undefined;
  return { path: join(dir, "likeness.index"), everyChanges: every, intervalMs: Math.round(interval * 1000) };
}

/**
 * Open the SQLite store of a data directory (`DIR/likeness.db`). A directory that still holds the
 * log of the old FileStore is refused with the migration command, so its data is never left behind.
 *
 * @param dir data directory
 * @param dim the model's dimension
 * @param readOnly open as a replica of the writer
 * @param deferCheck let the writer thread run `PRAGMA quick_check` while the index loads; the
 *   caller must await `store.verified` before serving (see `SqliteStoreOptions.deferCheck`)
 * @returns the open store
 * @throws {LikenessError} CONFLICT for an unmigrated FileStore directory; see {@link SqliteStore.open}
 */
export async function openDataDir(
  dir: string,
  dim: number,
  readOnly: boolean,
  deferCheck = false,
): Promise<SqliteStore> {
  const db = join(dir, "likeness.db");
  if (!existsSync(db) && (existsSync(join(dir, "wal.log")) || existsSync(join(dir, "snapshot.log")))) {
    throw new LikenessError(
      "CONFLICT",
      `${dir} holds references in the old log format (wal.log, snapshot.log). Migrate them first: ` +
        `likeness store migrate --from ${dir} --to ${db}`,
    );
  }
  return await SqliteStore.open(db, { dim, readOnly, deferCheck });
}

/**
 * Run the server with command-line flags (see the module doc). Resolves once it is listening.
 *
 * @param argv flags, e.g. `["--model", "runs/quickstart/model", "--port", "8787"]`
 * @returns the running server and a stop function
 */
export async function main(argv: string[]): Promise<{ port: number; stop(): Promise<void> } | undefined> {
  const t0 = performance.now();
  // Start-up phases, wall ms and process CPU ms (every thread: the writer's quick_check included).
  const phases: [string, number, number][] = [["runtime", t0, cpuMs()]];
  let lapAt = t0, lapCpu = cpuMs();
  const lap = (name: string) => {
    const now = performance.now(), c = cpuMs();
    phases.push([name, now - lapAt, c - lapCpu]);
    lapAt = now;
    lapCpu = c;
  };
  const flags = parseFlags(argv);
  if (flags.help) {
    console.log(HELP);
    return;
  }
  if (typeof flags.model !== "string" && typeof flags.dim !== "string") {
    throw new Error("Give --model DIR (a saved artifact) or --dim N (vector-only); see --help");
  }
  const token = tokenOf(flags, process.env.LIKENESS_TOKEN);
  const indexOptions = indexOf(flags);
  const dataDir = typeof flags.data === "string" ? flags.data : "./data";
  const sqlite = typeof flags.pg !== "string" && typeof flags.qdrant !== "string";
  const snapshot = snapshotOf(flags, dataDir);
  const bodyTimeoutMs = flags["body-timeout"] === undefined ? 10_000 : Number(flags["body-timeout"]);
  if (!Number.isFinite(bodyTimeoutMs) || bodyTimeoutMs <= 0) {
    throw new Error(`--body-timeout must be a positive number of milliseconds, got ${flags["body-timeout"]}`);
  }
  const headerTimeoutMs = flags["header-timeout"] === undefined ? 10_000 : Number(flags["header-timeout"]);
  if (!Number.isFinite(headerTimeoutMs) || headerTimeoutMs <= 0) {
    throw new Error(`--header-timeout must be a positive number of milliseconds, got ${flags["header-timeout"]}`);
  }
  const idleTimeoutS = flags["idle-timeout"] === undefined ? 30 : Number(flags["idle-timeout"]);
  if (!Number.isInteger(idleTimeoutS) || idleTimeoutS < 1 || idleTimeoutS > 255) {
    throw new Error(`--idle-timeout must be 1..255 seconds, got ${flags["idle-timeout"]}`);
  }
  const threads = flags.threads === undefined ? 1 : Number(flags.threads);
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
    throw new Error(`--threads must be an integer from 1 to 64, got ${JSON.stringify(flags.threads)}`);
  }
  // An hnsw graph is built on as many threads as the kernels search with (at most 16).
  if (indexOptions.kind === "hnsw") indexOptions.buildThreads = Math.min(threads, 16);
  // Start the compute backend first: with a model it also starts the matching tfjs backend.
  const { backend } = await createBackend({
    tf: typeof flags.model === "string",
    threads,
    ...(typeof flags.backend === "string" ? { prefer: flags.backend as BackendName } : {}),
  });
  lap("backend");
  const model: ServedModel = typeof flags.model === "string"
    ? await loadServedModel(flags.model)
    : vectorOnlyModel(Number(flags.dim));
  lap("model");
  const port = flags.port === undefined ? 8787 : Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--port must be 0..65535, got ${flags.port}`);
  }
  const store = typeof flags.pg === "string"
    ? await openPgStore(flags, model.dim)
    : typeof flags.qdrant === "string"
    ? await QdrantStore.connect({
      url: flags.qdrant,
      collection: typeof flags.collection === "string" ? flags.collection : "likeness",
      dim: model.dim,
      apiKey: process.env.QDRANT_API_KEY,
    })
    : await openDataDir(dataDir, model.dim, flags["read-only"] === true, true);
  lap("store_open");
  let made;
  try {
    made = await createApp({
      model,
      store,
      backend,
      auth: { token, protectReads: flags["protect-reads"] === true },
      limits: { bodyTimeoutMs },
      index: indexOptions,
      ...(sqlite && snapshot ? { snapshot } : {}),
      cpuMs,
    });
  } catch (e) {
    await store.close();
    throw e;
  }
  const { app, index, close, opened } = made;
  lap("index");
  // The writer thread ran PRAGMA quick_check while the index loaded: a damaged file is never served.
  const verified = store instanceof SqliteStore ? store.verified : undefined;
  if (verified) {
    try {
      await verified;
    } catch (e) {
      await close().catch(() => {});
      throw e;
    }
    lap("quick_check_wait");
  }
  const server = await serveFetch(app.fetch, {
    port,
    hostname: typeof flags.host === "string" ? flags.host : "127.0.0.1",
    idleTimeoutS,
    headerTimeoutMs,
  });
  lap("listen");
  console.log(
    `likeness: serving ${model.name} (${model.dim}-d, ${index.size} references, index ${index.kind}, backend ${backend.info.name}, store ${store.describe()}) on http://${server.hostname}:${server.port}`,
  );
  console.log(
    `likeness: index opened from ${
      opened.source === "snapshot" ? `its snapshot plus ${opened.applied} later change(s)` : "every stored reference"
    } in ${(opened.ms / 1000).toFixed(2)} s${
      opened.phases
        ? ` (wall/cpu ms: ${
          Object.entries(opened.phases).map(([k, v]) => `${k} ${v}/${opened.phasesCpu?.[k] ?? "?"}`).join(", ")
        })`
        : ""
    }; started in ${((performance.now() - t0) / 1000).toFixed(2)} s`,
  );
  console.log(
    `likeness: start phases (wall ms / cpu ms): ${
      phases.map(([k, w, c]) => `${k} ${Math.round(w)}/${Math.round(c)}`).join(", ")
    }`,
  );
  const stop = async () => {
    await server.close();
    await close();
    backend.dispose();
  };
  return { port: server.port, stop };
}

if (import.meta.main) {
  main(process.argv.slice(2)).then((running) => {
    if (!running) return;
    const exit = () => running.stop().then(() => process.exit(0));
    process.on("SIGINT", exit);
    process.on("SIGTERM", exit);
  }).catch((e) => {
    console.error(isLikenessError(e) ? `error [${e.code}]: ${e.message}` : `error: ${(e as Error).message}`);
    process.exit(1);
  });
}
