/**
 * `deno task check`: formatting, lint, strict type check, manifest and layout checks, and a
 * kernel rebuild that must give no diff. Prints `check: N passed, N failed`.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

const deno = "./node_modules/.bin/deno";
const results: { name: string; ok: boolean; detail?: string }[] = [];

function cmd(name: string, args: string[]): void {
  const r = spawnSync(args[0], args.slice(1), { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  const ok = r.status === 0;
  results.push({ name, ok, detail: ok ? undefined : `${r.stdout}\n${r.stderr}`.trim().slice(-4000) });
}

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir)) {
    if (e === "node_modules" || e.startsWith(".")) continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith(".ts") && !p.endsWith(".generated.ts")) out.push(p);
  }
  return out;
}

// Layout and manifests: every package has deno.json + package.json with the same name and
// exports, a mod.ts and a README.md; the scope is @likeness.
function layout(): string[] {
  const problems: string[] = [];
  for (
    const top of [
      "deno.json",
      "package.json",
      "packages",
      "kernels",
      "examples",
      "bench",
      "tests",
      "tools",
      "README.md",
    ]
  ) {
    if (!existsSync(top)) problems.push(`missing top-level ${top}`);
  }
  for (const pkg of readdirSync("packages").sort()) {
    const dir = join("packages", pkg);
    if (!statSync(dir).isDirectory()) continue;
    for (const f of ["deno.json", "package.json", "mod.ts", "README.md"]) {
      if (!existsSync(join(dir, f))) problems.push(`${dir}: missing ${f}`);
    }
    if (!existsSync(join(dir, "deno.json")) || !existsSync(join(dir, "package.json"))) continue;
    const d = JSON.parse(readFileSync(join(dir, "deno.json"), "utf8"));
    const p = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    if (d.name !== `@likeness/${pkg}`) problems.push(`${dir}/deno.json: name ${d.name} should be @likeness/${pkg}`);
    if (p.name !== d.name) problems.push(`${dir}: package.json name ${p.name} differs from deno.json ${d.name}`);
    if (JSON.stringify(p.exports) !== JSON.stringify(d.exports)) {
      problems.push(`${dir}: package.json exports differ from deno.json exports`);
    }
    if (p.type !== "module") problems.push(`${dir}/package.json: "type" must be "module"`);
    if (d.version !== p.version) problems.push(`${dir}: versions differ`);
  }
  // No cross-package relative imports.
  for (const f of walk("packages")) {
    const text = readFileSync(f, "utf8");
    for (const m of text.matchAll(/from\s+"(\.\.\/\.\.\/[^"]+|\.\.\/(?:[a-z_]+)\/[^"]*)"/g)) {
      const target = join(f, "..", m[1]);
      const pkgOf = (p: string) => p.split("/")[1];
      if (pkgOf(target) !== pkgOf(f)) {
        problems.push(`${f}: imports another package by relative path (${m[1]}); use @likeness/...`);
      }
    }
  }
  return problems;
}

cmd("fmt", [deno, "fmt", "--check"]);
cmd("lint", [deno, "lint"]);
const typed = [
  ...walk("packages"),
  ...walk("tests"),
  ...walk("tools"),
  ...(existsSync("bench") ? walk("bench") : []),
  ...(existsSync("examples") ? walk("examples") : []),
];
cmd("typecheck", [deno, "check", ...typed]);
const problems = layout();
results.push({ name: "layout", ok: problems.length === 0, detail: problems.join("\n") });
// Docs are tests: every README code block and @example type-checks, and the examples of the
// shared contracts (core's rules, tf's gathers, the loss contract, the kernels' float64 references and
// input rules), of the WebAssembly kernel wrappers (dense, resident, matmul, mining), of the seeded rng
// and samplers, and of the pure modules (formats, parsers, schedules, clustering scores) run and assert
// what they show.
cmd("doc examples type-check", [deno, "test", "--doc", "--no-run", "packages/"]);
cmd("doc examples run", [
  deno,
  "test",
  "-A",
  "--doc",
  "packages/core/validate.ts",
  "packages/core/labels.ts",
  "packages/core/errors.ts",
  "packages/core/suggest.ts",
  "packages/core/bytes.ts",
  "packages/core/mined.ts",
  "packages/tf/gather.ts",
  "packages/losses/base_loss.ts",
  "packages/losses/xbm.ts",
  "packages/core/components.ts",
  "packages/core/schema.ts",
  "packages/losses/registry.ts",
  "packages/miners/registry.ts",
  "packages/backend/index_kinds.ts",
  "packages/kernels/mining_input.ts",
  "packages/kernels/threads.ts",
  "packages/kernels/reference/pairwise.ts",
  "packages/kernels/reference/topk.ts",
  "packages/kernels/reference/mining.ts",
  "packages/kernels/reference/quant.ts",
  "packages/kernels/reference/conv.ts",
  "packages/kernels/reference/hnsw.ts",
  "packages/kernels/reference/matmul.ts",
  "packages/kernels/reference/metrics.ts",
  "packages/kernels/reference/mod.ts",
  "packages/trainer/schedule.ts",
  "packages/report/palette.ts",
  "packages/data/csv.ts",
  "packages/data/jsonl.ts",
  "packages/data/merge.ts",
  "packages/eval/clustering.ts",
  "packages/backend/index_format.ts",
  "packages/cache/entry_format.ts",
  "packages/core/rng.ts",
  "packages/kernels/dense.ts",
  "packages/kernels/dense_resident.ts",
  "packages/kernels/quant_resident.ts",
  "packages/kernels/matmul.ts",
  "packages/kernels/mining.ts",
  "packages/samplers/m_per_class.ts",
  "packages/samplers/no_duplicates.ts",
  "packages/samplers/pair_batches.ts",
  "packages/samplers/hierarchical.ts",
  "packages/kernels/conv.ts",
  "packages/report/escape.ts",
  "packages/eval/pairs.ts",
  "packages/eval/retrieval.ts",
]);
cmd("kernels rebuild gives no diff", [deno, "run", "-A", "tools/build_kernels.ts", "--check"]);
cmd("sqlite writer bundle gives no diff", [deno, "run", "-A", "tools/build_sqlite_writer.ts", "--check"]);

for (const r of results) {
  console.log(`${r.ok ? "ok  " : "FAIL"} ${r.name}`);
  if (!r.ok && r.detail) console.log(r.detail.split("\n").map((l) => "     " + l).join("\n"));
}
const failed = results.filter((r) => !r.ok).length;
console.log(`check: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
