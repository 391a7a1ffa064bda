/**
 * Shared helpers of the runnable examples: flags, runtime description, progress lines,
 * the metrics table and `runs/<name>/metrics.json`. Examples are entry points, so they may use
 * `node:process` and `node:fs` (both work in Deno and Bun).
 *
 * @module
 */
import process from "node:process";
import { cpus, loadavg } from "node:os";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (the folder above `examples/`). */
export const REPO_ROOT: string = dirname(dirname(fileURLToPath(import.meta.url)));

/** Parsed example flags. */
export interface ExampleArgs {
  /** `--quick`: the small CI variant. */
  quick: boolean;
  /** Other `--key value` / `--flag` pairs. */
  flags: Record<string, string | boolean>;
}

/**
 * Parse `--quick` and `--key value` flags.
 * @param argv arguments after the example name
 * @returns the parsed flags
 * @example
 * ```ts
 * console.log(parseExampleArgs(["--quick", "--seed", "3"])); // { quick: true, flags: { quick: true, seed: "3" } }
 * ```
 */
export function parseExampleArgs(argv: readonly string[]): ExampleArgs {
  const flags: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) throw new Error(`Unexpected argument "${a}": flags look like --quick or --seed 3`);
    const [k, inline] = a.slice(2).split("=", 2);
    if (inline !== undefined) flags[k] = inline;
    else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) flags[k] = argv[++i];
    else flags[k] = true;
  }
  return { quick: flags.quick === true, flags };
}

/**
 * A numeric flag with a default.
 * @param args parsed flags
 * @param name flag name
 * @param fallback default value
 * @returns the number
 */
export function numberFlag(args: ExampleArgs, name: string, fallback: number): number {
  const v = args.flags[name];
  if (v === undefined || v === true) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got ${JSON.stringify(v)}`);
  return n;
}

/** Where and on what an example ran. */
export interface RuntimeInfo {
  /** `deno` or `bun`. */
  runtime: string;
  /** Runtime version. */
  version: string;
  /** `linux-x64` and the like. */
  platform: string;
  /** Logical CPUs. */
  cpus: number;
  /** 1-minute load average when the run started. */
  load1: number;
}

/**
 * Describe the runtime (Deno or Bun) and the machine.
 * @returns runtime, version, platform, cpu count and load
 */
export function runtimeInfo(): RuntimeInfo {
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
  const runtime = g.Deno ? "deno" : g.Bun ? "bun" : "node";
  const version = g.Deno ? g.Deno.version.deno : g.Bun ? g.Bun.version : process.version;
  return {
    runtime,
    version,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpus().length,
    load1: Math.round(loadavg()[0] * 100) / 100,
  };
}

/**
 * Print a progress line to stderr (redrawn on a terminal, every `every`-th line otherwise).
 * @param label what is progressing
 * @returns a callback taking `{ done, total }`
 */
export function progressLine(label: string): (p: { done: number; total: number }) => void {
  const tty = process.stderr.isTTY === true;
  let last = -1;
  const t0 = performance.now();
  return ({ done, total }) => {
    const pct = total > 0 ? Math.floor((100 * done) / total) : 100;
    const secs = ((performance.now() - t0) / 1000).toFixed(0);
    if (tty) {
      process.stderr.write(`\r${label}: ${done}/${total} (${pct}%, ${secs} s)\x1b[K${done >= total ? "\n" : ""}`);
    } else if (pct >= last + 10 || done >= total) {
      last = pct;
      process.stderr.write(`${label}: ${done}/${total} (${pct}%, ${secs} s)\n`);
    }
  };
}

/**
 * Log a line to stderr (progress and notes; stdout carries the table).
 * @param text the line
 */
export function note(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** One row of the printed metrics table. */
export interface TableRow {
  /** Row label, e.g. `trained` or `untrained`. */
  name: string;
  /** Metric values by column. */
  values: Record<string, number | string | undefined>;
}

/**
 * Format rows as an aligned text table.
 * @param rows rows with the same columns
 * @returns the table text
 * @example
 * ```ts
 * console.log(formatTable([{ name: "trained", values: { precision_at_1: 0.98 } }]));
 * ```
 */
export function formatTable(rows: readonly TableRow[]): string {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r.values)))];
  const cell = (v: number | string | undefined) =>
    v === undefined ? "-" : typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : v;
  const header = ["", ...cols];
  const body = rows.map((r) => [r.name, ...cols.map((c) => cell(r.values[c]))]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}

/** What every example returns and writes. */
export interface ExampleResult {
  /** Example name (the `runs/<name>` folder). */
  example: string;
  /** Whether this was the `--quick` variant. */
  quick: boolean;
  /** Metrics by row (e.g. `trained`, `untrained`). */
  metrics: Record<string, Record<string, number>>;
  /** Wall times in seconds by phase, with `total`. */
  wallSeconds: Record<string, number>;
  /** Sizes, hyper-parameters and seeds. */
  settings: Record<string, unknown>;
  /** Runtime and machine. */
  runtime: RuntimeInfo;
  /** Compute backends used (tfjs backend, search backend). */
  backend: Record<string, string>;
  /** Free-form notes (targets, peer numbers). */
  notes?: string[];
  /** ISO time the run finished. */
  finishedAt?: string;
}

/**
 * Directory of an example's outputs (`runs/<name>`, or `runs/<name>-quick` for `--quick`).
 * @param name example name
 * @param quick whether this is the quick variant
 * @returns the absolute folder path
 */
export function runDir(name: string, quick: boolean): string {
  return join(REPO_ROOT, "runs", quick ? `${name}-quick` : name);
}

/**
 * Write `metrics.json` and print the metrics table to stdout.
 * @param result the example's result
 * @param dir output folder (default {@link runDir})
 * @returns the path written
 */
export async function finish(result: ExampleResult, dir?: string): Promise<string> {
  const out = dir ?? runDir(result.example, result.quick);
  await mkdir(out, { recursive: true });
  result.finishedAt = new Date().toISOString();
  const path = join(out, "metrics.json");
  await writeFile(path, JSON.stringify(result, null, 2) + "\n");
  const rows = Object.entries(result.metrics).map(([name, values]) => ({ name, values }));
  console.log(`\n${result.example}${result.quick ? " (quick)" : ""}: ${describeRuntime(result.runtime)}`);
  console.log(formatTable(rows));
  const walls = Object.entries(result.wallSeconds).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(", ");
  console.log(`wall time: ${walls}`);
  for (const n of result.notes ?? []) console.log(`note: ${n}`);
  console.log(`wrote ${path}`);
  return path;
}

/**
 * One line describing the runtime.
 * @param r runtime info
 * @returns e.g. `deno 2.9.6, linux-x64, 2 CPUs, load 8.5`
 */
export function describeRuntime(r: RuntimeInfo): string {
  return `${r.runtime} ${r.version}, ${r.platform}, ${r.cpus} CPUs, load ${r.load1}`;
}

/**
 * Seconds since `t0` (from `performance.now()`), rounded to 0.1 s.
 * @param t0 start time in ms
 * @returns seconds
 */
export function since(t0: number): number {
  return Math.round((performance.now() - t0) / 100) / 10;
}

/**
 * Keep only the named metrics, rounded to 4 decimals.
 * @param m metrics object
 * @param names names to keep (default all numeric)
 * @returns a plain record of numbers
 */
export function pickMetrics(m: Record<string, number | undefined>, names?: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of names ?? Object.keys(m)) {
    const v = m[k];
    if (typeof v === "number" && Number.isFinite(v)) out[k] = Math.round(v * 1e4) / 1e4;
  }
  return out;
}

/** Directory of the on-disk embedding cache shared by the text examples. */
export const CACHE_DIR: string = join(REPO_ROOT, ".cache", "embeddings");

/**
 * True when this module is the program's entry point (Deno and Bun set `import.meta.main`).
 * @param meta the caller's `import.meta`
 * @returns whether to run `main`
 */
export function isMain(meta: ImportMeta): boolean {
  return (meta as ImportMeta & { main?: boolean }).main === true;
}
