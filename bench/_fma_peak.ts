/**
 * The WebAssembly FMA peak of one thread: a tight loop of 12 independent f32x4 multiply-add
 * chains (`fmaPeak` in kernels/probe, relaxed madd or plain mul + add), CPU-timed, best of 5.
 * The yardstick for "share of peak" rows in bench:kernels and bench:index. Bench-only.
 */
import process from "node:process";
import { hasRelaxedSimd, KernelModule } from "@likeness/kernels";
import { wasmBytes as relaxedBytes } from "../packages/kernels/generated/dense_relaxed.generated.ts";
import { wasmBytes as simdBytes } from "../packages/kernels/generated/dense_simd.generated.ts";

/** CPU time of this process so far, in ms (user + system, every thread). */
export function cpuNowMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** One measurement of the peak: wall and CPU timed GFLOP/s of the best run. */
export interface FmaPeak {
  variant: "relaxed" | "simd";
  iters: number;
  ms: number;
  gflops: number;
  cpuMs: number;
  gflopsCpu: number;
}

/**
 * Measures the FMA peak of `variant` (default: relaxed when the runtime has relaxed SIMD, the
 * build the dense kernels pick) over `iters` loop iterations (96 flops each).
 */
export async function measureFmaPeak(
  variant: "relaxed" | "simd" = hasRelaxedSimd() ? "relaxed" : "simd",
  iters = 2e7,
): Promise<FmaPeak> {
  const bytes = variant === "relaxed" ? relaxedBytes() : simdBytes();
  const m = await KernelModule.create(bytes, new WebAssembly.Memory({ initial: 1 }));
  const peak = m.fn<(n: number, a: number, b: number) => number>("fmaPeak");
  peak(1e5, 0.999, 0.001); // baseline tier; later calls run optimised code
  peak(1e5, 0.999, 0.001);
  let best = Infinity;
  let bestCpu = Infinity;
  for (let r = 0; r < 5; r++) {
    const c0 = cpuNowMs();
    const t0 = performance.now();
    peak(iters, 0.999, 0.001);
    best = Math.min(best, performance.now() - t0);
    bestCpu = Math.min(bestCpu, cpuNowMs() - c0);
  }
  return {
    variant,
    iters,
    ms: best,
    gflops: (iters * 96) / best / 1e6,
    cpuMs: bestCpu,
    gflopsCpu: (iters * 96) / bestCpu / 1e6,
  };
}
