/**
 * Golden conformance runner: evaluates every case of a golden file (schema in
 * `/work/shared/golden/README.md`) through the adapters in `./adapters/`, in float32 on the tfjs
 * wasm backend, and compares each expected field.
 *
 * Tolerances (|actual - expected| <= atol + rtol * |expected|): gradients (fields named `grad*`)
 * rtol 1e-3, atol 1e-4; every other field (losses, distances, miners, metrics) rtol 1e-4, atol 1e-5.
 * Adapters may override per field. Miner tuples (`triplets`, `positive_pairs`, `negative_pairs`)
 * are compared as sets. `null` expected fields and `ignore_fields` are not compared; `peer_bug`
 * cases and cases without an adapter are skipped with their reason, except a `peer_bug` case with
 * `likeness_expected` (likeness's documented value), which is compared against that instead.
 *
 * Usage: `deno task golden [file]` (default `../shared/golden/peer-references.json` from the repo root).
 * Prints each failing case with its worst difference, then `golden: N passed, N failed, N skipped`,
 * and exits 1 on any failure.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import process from "node:process";
import { useTfBackend } from "@likeness/tf";
import { compareClose } from "@likeness/core/testing";
import type { GoldenAdapter, GoldenCase, GoldenTolerance } from "./types.ts";
import { adapters as defaultAdapters } from "./adapters/mod.ts";

/** Tolerance for gradient fields. */
export const GRAD_TOLERANCE: GoldenTolerance = { rtol: 1e-3, atol: 1e-4 };
/** Tolerance for every other numeric field. */
export const VALUE_TOLERANCE: GoldenTolerance = { rtol: 1e-4, atol: 1e-5 };
/** Fields compared as sets of index tuples unless an adapter says otherwise. */
export const DEFAULT_SET_FIELDS: readonly string[] = ["triplets", "positive_pairs", "negative_pairs"];

/** likeness's own edge cases (batch-hard with missing positives or negatives), beside this module. */
export const EDGE_CASES_FILE = new URL("./edge_cases.json", import.meta.url);

/** The default golden file, relative to this module (repo root `../shared/golden/`). */
export const DEFAULT_GOLDEN_FILE = new URL("../../../shared/golden/peer-references.json", import.meta.url);

/** Outcome of one case. */
export interface CaseResult {
  /** Case id. */
  id: string;
  /** passed, failed or skipped. */
  status: "passed" | "failed" | "skipped";
  /** Skip reason or failure messages. */
  messages: string[];
}

/** Outcome of a run. */
export interface GoldenReport {
  /** Number of cases passed. */
  passed: number;
  /** Number of cases failed. */
  failed: number;
  /** Number of cases skipped. */
  skipped: number;
  /** Per-case results in file order. */
  results: CaseResult[];
}

/**
 * Replace the strings "NaN", "Infinity", "-Infinity" by numbers, recursively.
 *
 * @param x parsed JSON
 * @returns the same structure with special floats as numbers
 */
export function reviveSpecialFloats(x: unknown): unknown {
  if (x === "NaN") return NaN;
  if (x === "Infinity") return Infinity;
  if (x === "-Infinity") return -Infinity;
  if (Array.isArray(x)) return x.map(reviveSpecialFloats);
  if (x !== null && typeof x === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) out[k] = reviveSpecialFloats(v);
    return out;
  }
  return x;
}

/**
 * Parse golden file text into cases.
 *
 * @param text JSON text in the golden schema
 * @returns the cases
 * @throws {Error} when the text has no `cases` array or a case lacks id/lib/name/expected
 */
export function parseGolden(text: string): GoldenCase[] {
  const doc = reviveSpecialFloats(JSON.parse(text)) as { cases?: unknown };
  if (!doc || !Array.isArray(doc.cases)) throw new Error("golden file: expected an object with a `cases` array");
  return doc.cases.map((c: Record<string, unknown>, i: number) => {
    for (const k of ["id", "lib", "name"]) {
      if (typeof c[k] !== "string") throw new Error(`golden file: case ${i} has no string "${k}"`);
    }
    if (!c.expected || typeof c.expected !== "object") throw new Error(`golden file: case ${c.id} has no "expected"`);
    return {
      params: {},
      inputs: {},
      ...c,
    } as unknown as GoldenCase;
  });
}

function isNumeric(x: unknown): boolean {
  if (typeof x === "number") return true;
  if (Array.isArray(x)) return x.every(isNumeric);
  return false;
}

function toleranceFor(path: string, adapter: GoldenAdapter): GoldenTolerance {
  const own = adapter.tolerance?.[path] ?? adapter.tolerance?.[path.split(".").pop()!];
  if (own) return own;
  const leaf = path.split(".").pop()!;
  return leaf.startsWith("grad") ? GRAD_TOLERANCE : VALUE_TOLERANCE;
}

function compareSets(path: string, actual: unknown, expected: unknown[]): string | undefined {
  if (!Array.isArray(actual)) return `${path}: expected a list of index tuples, got ${typeof actual}`;
  const key = (t: unknown) => JSON.stringify(Array.isArray(t) ? t.map(Number) : t);
  const want = new Set(expected.map(key));
  const got = new Set(actual.map(key));
  const missing = [...want].filter((k) => !got.has(k));
  const extra = [...got].filter((k) => !want.has(k));
  if (missing.length === 0 && extra.length === 0 && got.size === actual.length) return undefined;
  const dup = actual.length - got.size;
  return `${path}: ${missing.length} missing (e.g. ${missing.slice(0, 3).join(" ")}), ${extra.length} extra (e.g. ${
    extra.slice(0, 3).join(" ")
  })${dup > 0 ? `, ${dup} duplicates` : ""}; ${actual.length} returned, ${expected.length} expected`;
}

function compareField(
  path: string,
  actual: unknown,
  expected: unknown,
  adapter: GoldenAdapter,
  ignore: Record<string, string>,
  out: string[],
): void {
  if (path in ignore) return;
  if (expected === null) return; // the peer could not compute it: skip
  const leaf = path.split(".").pop()!;
  const setFields = adapter.setFields ?? DEFAULT_SET_FIELDS;
  if (actual === undefined) {
    out.push(`${path}: adapter ${adapter.name} returned no value`);
    return;
  }
  if (setFields.includes(leaf) && Array.isArray(expected)) {
    const msg = compareSets(path, actual, expected);
    if (msg) out.push(msg);
    return;
  }
  if (isNumeric(expected)) {
    const tol = toleranceFor(path, adapter);
    let r;
    try {
      r = compareClose(actual, expected, tol);
    } catch (e) {
      out.push(`${path}: cannot compare (${(e as Error).message})`);
      return;
    }
    if (!r.ok) {
      out.push(
        r.worstIndex < 0
          ? `${path}: length ${r.actual} differs from expected length ${r.expected}`
          : `${path}: worst index ${r.worstIndex}: actual ${r.actual} expected ${r.expected} |diff| ${
            r.worstDiff.toExponential(3)
          } (rtol ${tol.rtol}, atol ${tol.atol})`,
      );
    }
    return;
  }
  if (expected !== null && typeof expected === "object" && !Array.isArray(expected)) {
    const act = (actual ?? {}) as Record<string, unknown>;
    for (const [k, v] of Object.entries(expected)) compareField(`${path}.${k}`, act[k], v, adapter, ignore, out);
    return;
  }
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    out.push(`${path}: actual ${JSON.stringify(actual)} expected ${JSON.stringify(expected)}`);
  }
}

/**
 * Run golden cases through adapters.
 *
 * @param cases parsed cases
 * @param adapters adapters in lookup order (default: all of `./adapters/mod.ts`)
 * @returns counts and per-case results
 */
export async function runGolden(
  cases: readonly GoldenCase[],
  adapters: readonly GoldenAdapter[] = defaultAdapters,
): Promise<GoldenReport> {
  await useTfBackend("wasm");
  const results: CaseResult[] = [];
  for (const c of cases) {
    if (c.peer_bug && !c.likeness_expected) {
      results.push({ id: c.id, status: "skipped", messages: [`peer_bug: ${c.peer_bug}`] });
      continue;
    }
    const adapter = adapters.find((a) => a.matches(c));
    if (!adapter) {
      results.push({ id: c.id, status: "skipped", messages: ["no adapter yet"] });
      continue;
    }
    const reason = adapter.skip?.(c);
    if (reason) {
      results.push({ id: c.id, status: "skipped", messages: [reason] });
      continue;
    }
    const messages: string[] = [];
    try {
      const actual = await adapter.run(c);
      const expected = c.peer_bug ? c.likeness_expected! : c.expected;
      for (const [k, v] of Object.entries(expected)) {
        compareField(k, actual[k], v, adapter, c.ignore_fields ?? {}, messages);
      }
    } catch (e) {
      messages.push(`adapter ${adapter.name} threw: ${(e as Error)?.stack ?? e}`);
    }
    results.push({ id: c.id, status: messages.length ? "failed" : "passed", messages });
  }
  const count = (s: CaseResult["status"]) => results.filter((r) => r.status === s).length;
  return { passed: count("passed"), failed: count("failed"), skipped: count("skipped"), results };
}

/**
 * Format a report: failures with their worst difference, skips with their reason, then the summary line.
 *
 * @param report the report
 * @returns printable lines
 */
export function formatReport(report: GoldenReport): string[] {
  const lines: string[] = [];
  for (const r of report.results) {
    if (r.status === "failed") {
      lines.push(`FAIL ${r.id}`);
      for (const m of r.messages) lines.push(`  ${m}`);
    }
  }
  for (const r of report.results) if (r.status === "skipped") lines.push(`SKIP ${r.id}: ${r.messages[0]}`);
  lines.push(`golden: ${report.passed} passed, ${report.failed} failed, ${report.skipped} skipped`);
  return lines;
}

/**
 * Load a golden file and run it.
 *
 * @param file path or URL (default {@link DEFAULT_GOLDEN_FILE})
 * @param adapters adapters (default all)
 * @returns the report
 */
export async function runGoldenFile(
  file: string | URL = DEFAULT_GOLDEN_FILE,
  adapters: readonly GoldenAdapter[] = defaultAdapters,
): Promise<GoldenReport> {
  const text = await readFile(file, "utf8");
  return runGolden(parseGolden(text), adapters);
}

if (import.meta.main) {
  const arg = process.argv.slice(2).find((a) => !a.startsWith("-"));
  const report = await runGoldenFile(arg ?? DEFAULT_GOLDEN_FILE);
  for (const line of formatReport(report)) console.log(line);
  process.exit(report.failed > 0 ? 1 : 0);
}
