/**
 * `deno task example <name> [--quick] [flags]` (Bun: `bun run example <name>`): run
 * `examples/<name>.ts`, write `runs/<name>/metrics.json` (`runs/<name>-quick/` for `--quick`)
 * and print its metrics table.
 *
 * @module
 */
import process from "node:process";
import { readdirSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { type ExampleResult, finish } from "./_common.ts";

/** The runnable examples, in the order the README lists them. */
export const EXAMPLES: readonly string[] = [
  "quickstart",
  "wordnet",
  "verses",
  "mnist",
  "fashion-unseen",
  "emoji",
  "anomaly",
  "serve-hot-add",
];

/**
 * Run one example by name.
 * @param name example name (a file `examples/<name>.ts` exporting `main`)
 * @param argv its flags
 * @returns its result (already written and printed)
 */
export async function runExample(name: string, argv: readonly string[]): Promise<ExampleResult> {
  const here = dirname(fileURLToPath(import.meta.url));
  const available = readdirSync(here).filter((f) =>
    /^[a-z][a-z0-9-]*\.ts$/.test(f) && f !== "run.ts" && !f.endsWith("_test.ts")
  )
    .map((f) => f.slice(0, -3));
  if (!available.includes(name)) {
    throw new Error(`Unknown example ${JSON.stringify(name)}: use one of ${available.join(", ")}`);
  }
  const mod = await import(`./${name}.ts`) as { main(argv: readonly string[]): Promise<ExampleResult> };
  const result = await mod.main(argv);
  await finish(result);
  return result;
}

if ((import.meta as ImportMeta & { main?: boolean }).main) {
  const [name, ...rest] = process.argv.slice(2);
  if (!name || name === "--help") {
    console.log(`Usage: deno task example <name> [--quick]\nExamples: ${EXAMPLES.join(", ")}`);
    process.exit(name ? 0 : 1);
  }
  try {
    await runExample(name, rest);
    process.exit(0);
  } catch (e) {
    console.error(`example ${name} failed: ${process.env.LIKENESS_DEBUG ? (e as Error).stack : (e as Error).message}`);
    process.exit(1);
  }
}
