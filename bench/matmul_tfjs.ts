/**
 * `tf.matMul` inside tfjs-backend-wasm: tfjs's stock kernel and likeness's (`@likeness/tfwasm`) in one
 * process, alternating rep by rep, median of `--reps` (default 7) after a warm-up of each. Never a
 * timed test.
 *
 * Shapes are the training shapes M×K×N (160×784×256, 1024×512×512, 128×1280×512) with each
 * transpose a dense layer's training uses: `nn` (forward, x·W), `tn` (weight gradient, xᵀ·dy) and
 * `nt` (input gradient, dy·Wᵀ). B is either the same tensor every rep (`reused`: tfjs-wasm caches
 * XNNPACK's packing of B per tensor, as for frozen weights) or a fresh tensor every rep (`fresh`: as
 * in training, where the optimizer replaces every weight each step).
 *
 * Run: `deno run -A bench/matmul_tfjs.ts [--reps 7] [--shapes 160x784x256,...] [--modes nn,tn,nt]
 * [--threads N]`, or `bun run bench/matmul_tfjs.ts`. Prints one JSON line per row, then a table of
 * ratios on stderr with the load average before and after.
 *
 * @module
 */
import { loadavg } from "node:os";
import process from "node:process";
import { tf, useTfBackend } from "@likeness/tf";
import { compareMatMul } from "./_matmul_compare.ts";

const RUNTIME = "Bun" in globalThis ? "bun" : "deno";
const argv = process.argv.slice(2);
const flag = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};

const load0 = loadavg()[0];
await useTfBackend("wasm");
const rows = await compareMatMul({
  shapes: (flag("shapes") ?? "160x784x256,1024x512x512,128x1280x512").split(",").map((s) =>
    s.split("x").map(Number) as [number, number, number]
  ),
  modes: (flag("modes") ?? "nn,tn,nt").split(","),
  kinds: ["reused", "fresh"],
  reps: Number(flag("reps") ?? 7),
  threads: flag("threads") ? Number(flag("threads")) : undefined,
});
const load1 = loadavg()[0];
for (const r of rows) console.log(JSON.stringify({ bench: "matmul_tfjs", runtime: RUNTIME, ...r }));
console.error(
  `\nmatMul in tfjs-wasm (${RUNTIME}, ${tf.getBackend()}), median of alternating reps; load average ${
    load0.toFixed(2)
  } → ${load1.toFixed(2)}`,
);
console.error("shape          mode  B       stock ms  ours ms  ours speed  GFLOP/s stock  ours  CPU ms stock  ours");
for (const r of rows) {
  const [m, k, n] = r.shape.split("x").map(Number);
  const gf = (ms: number) => (2 * m * k * n / ms / 1e6).toFixed(1).padStart(6);
  console.error(
    `${r.shape.padEnd(14)} ${r.mode.padEnd(5)} ${r.b.padEnd(7)} ${r.stockMs.toFixed(2).padStart(8)} ${
      r.oursMs.toFixed(2).padStart(8)
    } ${(r.stockMs / r.oursMs).toFixed(2).padStart(8)}×       ${gf(r.stockMs)}  ${gf(r.oursMs)}  ${
      r.stockCpuMs.toFixed(2).padStart(10)
    } ${r.oursCpuMs.toFixed(2).padStart(6)}`,
  );
}
process.exit(0);
