/**
 * `tf.matMul` on tfjs-backend-wasm with tfjs's stock kernel and with likeness's, in one process,
 * alternating rep by rep (private to the benches: `matmul_tfjs.ts`, `train_main.ts`).
 *
 * @module
 */
import process from "node:process";
import { createRng } from "@likeness/core";
import { tf } from "@likeness/tf";
import { registerLikenessWasmKernels, restoreTfjsWasmKernels } from "@likeness/tfwasm";
import { createMatMulKernels } from "@likeness/kernels";

/** One shape, transpose and kind of B, both kernels. */
export interface MatMulComparison {
  /** M×K×N of the product. */
  shape: string;
  /** `nn` (x·W, forward), `tn` (xᵀ·dy, weight gradient), `nt` (dy·Wᵀ, input gradient). */
  mode: string;
  /** `fresh`: a new B tensor every rep (training); `reused`: the same B (frozen weights). */
  b: "fresh" | "reused";
  /** Median milliseconds, tfjs-backend-wasm's kernel. */
  stockMs: number;
  /** Median milliseconds, likeness's kernel. */
  oursMs: number;
  /** Median process CPU milliseconds (every thread; spinning included), tfjs's kernel. */
  stockCpuMs: number;
  /** Median process CPU milliseconds, likeness's kernel. */
  oursCpuMs: number;
}

/** Options of {@link compareMatMul}. */
export interface CompareOptions {
  /** Products M×K×N. */
  shapes: [number, number, number][];
  /** Transposes (`nn`, `tn`, `nt`, `tt`). */
  modes: string[];
  /** Kinds of B. */
  kinds: ("fresh" | "reused")[];
  /** Timed reps of each kernel (after one warm-up each); the median is reported. */
  reps: number;
  /** Threads of likeness's kernels (default: registerLikenessWasmKernels's). */
  threads?: number;
  /** Build of likeness's matmul kernels (default: registerLikenessWasmKernels's, `simd`). */
  variant?: "simd" | "relaxed";
}

const median = (t: number[]) => [...t].sort((a, b) => a - b)[t.length >> 1];

/**
 * Time `tf.matMul` with both kernels, alternating stock and ours rep by rep, on the current backend
 * (`wasm`). Leaves likeness's kernel registered.
 *
 * @param o shapes, transposes, kinds of B, reps, threads
 * @returns one comparison per shape × mode × kind
 */
export async function compareMatMul(o: CompareOptions): Promise<MatMulComparison[]> {
  restoreTfjsWasmKernels();
  const stock = tf.getKernel("BatchMatMul", "wasm")!;
  await registerLikenessWasmKernels({ replace: true, threads: o.threads, matMulVariant: o.variant });
  const ours = tf.getKernel("BatchMatMul", "wasm")!;
  const use = (config: tf.KernelConfig) => {
    tf.unregisterKernel("BatchMatMul", "wasm");
    tf.registerKernel(config);
  };
  const rng = createRng(7);
  const randn = (n: number) => Float32Array.from({ length: n }, () => rng.normal());
  const rows: MatMulComparison[] = [];
  try {
    for (const [m, k, n] of o.shapes) {
      for (const mode of o.modes) {
        const ta = mode[0] === "t";
        const tb = mode[1] === "t";
        const a = tf.tensor2d(randn(m * k), ta ? [k, m] : [m, k]);
        const bData = randn(k * n);
        const bShape: [number, number] = tb ? [n, k] : [k, n];
        for (const kind of o.kinds) {
          const reused = tf.tensor2d(bData, bShape);
          const once = (wall: number[], cpu: number[]) => {
            const b = kind === "fresh" ? tf.tensor2d(bData, bShape) : reused;
            const c0 = process.cpuUsage();
            const t0 = performance.now();
            const c = tf.matMul(a, b, ta, tb);
            c.dataSync();
            wall.push(performance.now() - t0);
            const dc = process.cpuUsage(c0);
            cpu.push((dc.user + dc.system) / 1000);
            c.dispose();
            if (b !== reused) b.dispose();
          };
          const [ts, to, cs, co]: number[][] = [[], [], [], []];
          use(stock);
          once([], []);
          // Ours tries each way it can run a product three times before it settles (tfwasm's _WayChooser),
          // and times new Workers only after their first MATMUL_WARM_PRODUCTS products: 3 × 3 + 8, then
          // a few more while the first choice is checked every 4th product. Each warm-up yields to the
          // event loop, as a training step does: Workers stopped while idle (an earlier row that ran
          // PyTorch for 20 s) restart only when their start messages can arrive.
          use(ours);
          for (let w = 0; w < 24; w++) {
            once([], []);
            await new Promise((r) => setTimeout(r, 1));
          }
          for (let r = 0; r < o.reps; r++) {
            use(stock);
            once(ts, cs);
            use(ours);
            once(to, co);
          }
          reused.dispose();
          rows.push({
            shape: `${m}x${k}x${n}`,
            mode,
            b: kind,
            stockMs: median(ts),
            oursMs: median(to),
            stockCpuMs: median(cs),
            oursCpuMs: median(co),
          });
        }
        a.dispose();
      }
    }
  } finally {
    use(ours);
  }
  return rows;
}

/** One shape and transpose, likeness's kernels on 1 and on 2 threads. */
export interface ThreadsComparison {
  /** M×K×N of the product. */
  shape: string;
  /** `nn`, `tn` or `nt`. */
  mode: string;
  /** Median milliseconds on one thread (the calling thread only). */
  oneMs: number;
  /** Median milliseconds on two threads (the calling thread and one Worker). */
  twoMs: number;
  /** Threads the two-thread kernels actually ran on (1 when Workers could not start). */
  threads: number;
}

/**
 * Time likeness's matmul kernels themselves (`createMatMulKernels`, operands copied into their memory
 * and the result out, as the tfjs kernel's Worker way does) on 1 and on 2 threads, alternating rep by
 * rep, median of `reps` after two warm-ups each: the kernels' own 2-thread speed-up, without tfjs's
 * way chooser in between.
 *
 * @param o shapes, transposes, reps
 * @returns one comparison per shape × mode
 */
export async function compareThreads(
  o: { shapes: [number, number, number][]; modes: string[]; reps: number; variant?: "simd" | "relaxed" },
): Promise<ThreadsComparison[]> {
  // The build tfwasm registers by default (relaxed), unless asked for another: the rows above use it too.
  const variant = o.variant ?? "relaxed";
  const one = await createMatMulKernels({ threads: 1, variant });
  const two = await createMatMulKernels({ threads: 2, minParallelWork: 0, idleMs: Infinity, variant });
  const rng = createRng(11);
  const rows: ThreadsComparison[] = [];
  try {
    for (const [m, k, n] of o.shapes) {
      const a = Float32Array.from({ length: m * k }, () => rng.normal());
      const b = Float32Array.from({ length: k * n }, () => rng.normal());
      const out = new Float32Array(m * n);
      for (const mode of o.modes) {
        const spec = { m, n, k, transposeA: mode[0] === "t", transposeB: mode[1] === "t" };
        const time = (kernels: typeof one, t?: number[]) => {
          const t0 = performance.now();
          kernels.matMul(a, b, spec, out);
          t?.push(performance.now() - t0);
        };
        for (let w = 0; w < 2; w++) time(one), time(two);
        const [t1, t2]: number[][] = [[], []];
        for (let r = 0; r < o.reps; r++) time(one, t1), time(two, t2);
        rows.push({ shape: `${m}x${k}x${n}`, mode, oneMs: median(t1), twoMs: median(t2), threads: two.threads });
      }
    }
  } finally {
    one.dispose();
    two.dispose();
  }
  return rows;
}
