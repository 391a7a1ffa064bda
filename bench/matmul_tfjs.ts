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
 * Run: `deno run -A bench/matmul_tfjs.ts [--reps 7] [--shapes 160x784x256,...] [--threads N]`, or
 * `bun run bench/matmul_tfjs.ts`. Prints one JSON line per row, then a table of ratios on stderr with
 * the load average before and after.
 *
 * @module
 */
import { loadavg } from "node:os";
import process from "node:process";
import { createRng } from "@likeness/core";
import { tf, useTfBackend } from "@likeness/tf";
import { registerLikenessWasmKernels, restoreTfjsWasmKernels } from "@likeness/tfwasm";

const RUNTIME = "Bun" in globalThis ? "bun" : "deno";
const argv = process.argv.slice(2);
const flag = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const REPS = Number(flag("reps") ?? 7);
const SHAPES = (flag("shapes") ?? "160x784x256,1024x512x512,128x1280x512").split(",").map((s) =>
  s.split("x").map(Number) as [number, number, number]
);
const MODES = (flag("modes") ?? "nn,tn,nt").split(",");
const THREADS = flag("threads") ? Number(flag("threads")) : undefined;

const load0 = loadavg()[0];
await useTfBackend("wasm");
restoreTfjsWasmKernels();
const stock = tf.getKernel("BatchMatMul", "wasm")!;
await registerLikenessWasmKernels({ replace: true, threads: THREADS });
const ours = tf.getKernel("BatchMatMul", "wasm")!;

function use(config: tf.KernelConfig): void {
  tf.unregisterKernel("BatchMatMul", "wasm");
  tf.registerKernel(config);
}

const rng = createRng(7);
const randn = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
const median = (t: number[]) => [...t].sort((a, b) => a - b)[t.length >> 1];

interface Row {
  bench: string;
  runtime: string;
  shape: string;
  mode: string;
  b: string;
  stockMs: number;
  oursMs: number;
  ratio: number;
  gflopsStock: number;
  gflopsOurs: number;
}
const rows: Row[] = [];

for (const [m, k, n] of SHAPES) {
  for (const mode of MODES) {
    const ta = mode[0] === "t";
    const tb = mode[1] === "t";
    const a = tf.tensor2d(randn(m * k), ta ? [k, m] : [m, k]);
    const bData = randn(k * n);
    const bShape: [number, number] = tb ? [n, k] : [k, n];
    for (const fresh of [false, true]) {
      const reusedB = tf.tensor2d(bData, bShape);
      const once = (): number => {
        const b = fresh ? tf.tensor2d(bData, bShape) : reusedB;
        const t0 = performance.now();
        const c = tf.matMul(a, b, ta, tb);
        c.dataSync();
        const ms = performance.now() - t0;
        c.dispose();
        if (fresh) b.dispose();
        return ms;
      };
      const ts: number[] = [];
      const to: number[] = [];
      use(stock);
      once();
      use(ours);
      once();
      for (let r = 0; r < REPS; r++) {
        use(stock);
        ts.push(once());
        use(ours);
        to.push(once());
      }
      reusedB.dispose();
      const s = median(ts);
      const o = median(to);
      const flop = 2 * m * n * k;
      const row: Row = {
        bench: "matmul_tfjs",
        runtime: RUNTIME,
        shape: `${m}x${k}x${n}`,
        mode,
        b: fresh ? "fresh" : "reused",
        stockMs: Math.round(s * 1000) / 1000,
        oursMs: Math.round(o * 1000) / 1000,
        ratio: Math.round((s / o) * 100) / 100,
        gflopsStock: Math.round(flop / s / 1e5) / 10,
        gflopsOurs: Math.round(flop / o / 1e5) / 10,
      };
      rows.push(row);
      console.log(JSON.stringify(row));
    }
    a.dispose();
  }
}

console.error(
  `\nmatMul in tfjs-wasm (${RUNTIME}), median of ${REPS} alternating reps; load average ${load0.toFixed(2)} → ${
    loadavg()[0].toFixed(2)
  }`,
);
console.error("shape          mode  B       stock ms  ours ms  ours/stock speed  GFLOP/s stock  ours");
for (const r of rows) {
  console.error(
    `${r.shape.padEnd(14)} ${r.mode.padEnd(5)} ${r.b.padEnd(7)} ${r.stockMs.toFixed(2).padStart(8)} ${
      r.oursMs.toFixed(2).padStart(8)
    } ${r.ratio.toFixed(2).padStart(8)}×        ${r.gflopsStock.toFixed(1).padStart(6)}  ${
      r.gflopsOurs.toFixed(1).padStart(6)
    }`,
  );
}
process.exit(0);
