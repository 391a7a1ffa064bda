/**
 * The README's test command (`deno task test:all`): static checks, the test suite under Deno,
 * the same files under Bun, and the golden conformance run; then one summary line
 * `tests: N passed, N failed`. Exits non-zero if anything failed.
 */
import { spawn } from "node:child_process";
import { crashAfterAllPassed, failureDigest } from "./_ci_digest.ts";

const deno = "./node_modules/.bin/deno";
const bun = "./node_modules/.bin/bun";

interface Step {
  name: string;
  cmd: string[];
  parse: (out: string, code: number) => { passed: number; failed: number; skipped?: number };
  /**
   * Why one rerun is warranted, if it is: only for a crash of the runtime itself after its own
   * summary said every test passed (the rerun's counts are the ones reported, and the crash is
   * printed in the summary so that it is never hidden).
   */
  retry?: (out: string, code: number) => string | undefined;
}

// deno-lint-ignore no-control-regex
const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");

function run(cmd: string[]): Promise<{ out: string; code: number }> {
  return new Promise((resolve) => {
    const child = spawn(cmd[0], cmd.slice(1), {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
    });
    let out = "";
    const onData = (d: Uint8Array) => {
      const s = new TextDecoder().decode(d);
      out += s;
      process.stdout.write(s);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("close", (code) => resolve({ out: stripAnsi(out), code: code ?? 1 }));
  });
}

const lastMatch = (out: string, re: RegExp) => {
  const all = [...out.matchAll(re)];
  return all.length ? all[all.length - 1] : null;
};

const steps: Step[] = [
  {
    name: "check",
    cmd: [deno, "run", "-A", "tools/check.ts"],
    parse: (out, code) => {
      const m = lastMatch(out, /check: (\d+) passed, (\d+) failed/g);
      return m ? { passed: +m[1], failed: +m[2] } : { passed: 0, failed: code === 0 ? 0 : 1 };
    },
  },
  {
    name: "deno test",
    cmd: [deno, "test", "-A", "--parallel", "packages/", "tests/"],
    parse: (out, code) => {
      const m = lastMatch(
        out,
        /(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed(?: \((?:\d+ steps?)\))?(?: \| (\d+) ignored)?/g,
      );
      return m
        ? { passed: +m[1], failed: +m[2] + (code !== 0 && +m[2] === 0 ? 1 : 0), skipped: +(m[3] ?? 0) }
        : { passed: 0, failed: 1 };
    },
    retry: crashAfterAllPassed,
  },
  {
    name: "bun test",
    cmd: [bun, "test", "--timeout", "600000"],
    parse: (out, code) => {
      const p = lastMatch(out, /^\s*(\d+) pass$/gm);
      const f = lastMatch(out, /^\s*(\d+) fail$/gm);
      const s = lastMatch(out, /^\s*(\d+) skip$/gm);
      if (!p) return { passed: 0, failed: 1 };
      const failed = f ? +f[1] : 0;
      return { passed: +p[1], failed: failed + (code !== 0 && failed === 0 ? 1 : 0), skipped: s ? +s[1] : 0 };
    },
  },
  {
    name: "golden",
    cmd: [deno, "run", "-A", "tests/golden/run.ts"],
    parse: (out, code) => {
      const m = lastMatch(out, /golden: (\d+) passed, (\d+) failed, (\d+) skipped/g);
      return m
        ? { passed: +m[1], failed: +m[2] + (code !== 0 && +m[2] === 0 ? 1 : 0), skipped: +m[3] }
        : { passed: 0, failed: 1 };
    },
  },
];

let passed = 0;
let failed = 0;
let skipped = 0;
const lines: string[] = [];
const digests: string[] = [];
for (const step of steps) {
  console.log(`\n=== ${step.name}: ${step.cmd.join(" ")}`);
  const t0 = performance.now();
  let { out, code } = await run(step.cmd);
  const why = step.retry?.(out, code);
  if (why !== undefined) {
    const note =
      `${step.name}: every test passed, then the runtime crashed at exit (${why}, exit ${code}); ran it again`;
    console.log(`\n=== ${note}`);
    lines.push(note);
    ({ out, code } = await run(step.cmd));
  }
  const r = step.parse(out, code);
  if (r.failed) {
    digests.push(`--- ${step.name} failures\n${failureDigest(out) || "(no failure text found; see above)"}`);
  }
  passed += r.passed;
  failed += r.failed;
  skipped += r.skipped ?? 0;
  lines.push(
    `${step.name}: ${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ""} (${
      ((performance.now() - t0) / 1000).toFixed(0)
    } s, exit ${code})`,
  );
}
if (digests.length) console.log("\n=== what failed (repeated from above)\n" + digests.join("\n"));
console.log("\n" + lines.join("\n"));
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 ? 1 : 0);
