/**
 * Where a training step's time goes: wall time per phase of `fit` and time per tfjs kernel.
 *
 * @module
 */
import { checkFiniteNumber } from "@likeness/core";
import { tf } from "@likeness/tf";

/** The phases of one training step, in order. */
export type FitPhase = "data" | "forward" | "mining" | "loss" | "backward" | "optimizer";

/** The phases of {@link FitPhase}, in order. */
export const FIT_PHASES: readonly FitPhase[] = ["data", "forward", "mining", "loss", "backward", "optimizer"];

/** Time spent in one tfjs kernel over the profiled steps. */
export interface KernelTime {
  /** tfjs kernel name (e.g. `BatchMatMul`). */
  name: string;
  /** Total milliseconds. */
  ms: number;
  /** Calls. */
  calls: number;
}

/** What a {@link FitProfiler} measured. */
export interface FitProfile {
  /** Steps measured. */
  steps: number;
  /** Wall milliseconds of the measured steps. */
  totalMs: number;
  /** Milliseconds per phase, summed over the steps. */
  phases: Record<FitPhase, number>;
  /** Kernels by total time, largest first (empty when kernels were not profiled). */
  kernels: KernelTime[];
}

/** Options of {@link FitProfiler}. */
export interface FitProfilerOptions {
  /** Also time every tfjs kernel (through `tf.profile`; default true). */
  kernels?: boolean;
  /** Steps to leave out at the start (warm-up: compilation, first allocations; default 1). */
  skip?: number;
}

/**
 * Accumulates time per training phase (and per tfjs kernel) over the steps `fit` runs. Pass one as
 * `profile` to `fit`; the result's `profile` holds its report. Phases are wall time on the calling
 * thread: exact on the synchronous `wasm` and `cpu` backends; on `webgpu`, kernels run asynchronously
 * and their time shows up where a value is read (the loss).
 *
 * @example
 * ```ts
 * import { FitProfiler } from "@likeness/trainer";
 * const p = new FitProfiler({ kernels: false, skip: 0 });
 * p.beginStep();
 * p.time("data", () => new Array(1000).fill(0));
 * p.endStep();
 * console.log(p.report().steps); // 1
 * ```
 */
export class FitProfiler {
  readonly #kernels: boolean;
  readonly #skip: number;
  #seen = 0;
  #steps = 0;
  #totalMs = 0;
  #stepStart = 0;
  #counting = false;
  readonly #phases: Record<FitPhase, number> = { data: 0, forward: 0, mining: 0, loss: 0, backward: 0, optimizer: 0 };
  readonly #byKernel = new Map<string, KernelTime>();

  /**
   * @param options kernel profiling and warm-up steps
   * @throws {ValueError} INVALID_ARGUMENT for a negative or non-integer `skip`
   */
  constructor(options: FitProfilerOptions = {}) {
    this.#kernels = options.kernels ?? true;
    this.#skip = checkFiniteNumber(options.skip ?? 1, "skip", "FitProfiler", { min: 0, integer: true });
  }

  /** Start a step (`fit` calls it). */
  beginStep(): void {
    this.#counting = this.#seen >= this.#skip;
    this.#seen++;
    this.#stepStart = performance.now();
  }

  /** End the step begun last (`fit` calls it). */
  endStep(): void {
    if (!this.#counting) return;
    this.#steps++;
    this.#totalMs += performance.now() - this.#stepStart;
  }

  /**
   * Add `ms` to a phase of the current step.
   *
   * @param phase the phase
   * @param ms milliseconds
   */
  add(phase: FitPhase, ms: number): void {
    if (this.#counting) this.#phases[phase] += ms;
  }

  /**
   * Run `f` and add its wall time to `phase`.
   *
   * @param phase the phase
   * @param f the work
   * @returns what `f` returns
   */
  time<T>(phase: FitPhase, f: () => T): T {
    const t0 = performance.now();
    try {
      return f();
    } finally {
      this.add(phase, performance.now() - t0);
    }
  }

  /**
   * Run an async `f` and add its wall time to `phase`.
   *
   * @param phase the phase
   * @param f the work
   * @returns what `f` resolves to
   */
  async timeAsync<T>(phase: FitPhase, f: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await f();
    } finally {
      this.add(phase, performance.now() - t0);
    }
  }

  /**
   * Run a whole step under `tf.profile` (when kernels are profiled and the step counts) and add
   * each kernel's time.
   *
   * @param step the step's work
   * @returns what `step` resolves to
   */
  async kernelsOf<T>(step: () => Promise<T>): Promise<T> {
    if (!this.#kernels || !this.#counting) return await step();
    let out: T;
    const check = tf.env().getBool("CHECK_COMPUTATION_FOR_ERRORS");
    tf.env().set("CHECK_COMPUTATION_FOR_ERRORS", false); // it would read every output back
    try {
      const info = await tf.profile(async () => {
        out = await step();
        return 0;
      });
      for (const k of info.kernels) {
        const ms = typeof k.kernelTimeMs === "number" ? k.kernelTimeMs : 0;
        const e = this.#byKernel.get(k.name) ?? { name: k.name, ms: 0, calls: 0 };
        e.ms += ms;
        e.calls++;
        this.#byKernel.set(k.name, e);
      }
    } finally {
      tf.env().set("CHECK_COMPUTATION_FOR_ERRORS", check);
    }
    return out!;
  }

  /**
   * What was measured so far.
   *
   * @returns steps, total and per-phase milliseconds, kernels by time
   */
  report(): FitProfile {
    return {
      steps: this.#steps,
      totalMs: this.#totalMs,
      phases: { ...this.#phases },
      kernels: [...this.#byKernel.values()].map((k) => ({ ...k })).sort((a, b) => b.ms - a.ms),
    };
  }
}

/**
 * A profile as a small text table: ms per step and share for each phase, then the top kernels.
 *
 * @param p a profile
 * @param top kernels to list (default 12)
 * @returns lines of text
 * @example
 * ```ts
 * import { formatProfile } from "@likeness/trainer";
 * const phases = { data: 1, forward: 4, mining: 2, loss: 1, backward: 8, optimizer: 2 };
 * console.log(formatProfile({ steps: 2, totalMs: 18, phases, kernels: [] }).includes("backward")); // true
 * ```
 */
export function formatProfile(p: FitProfile, top = 12): string {
  const per = (ms: number) => (p.steps ? ms / p.steps : 0).toFixed(2).padStart(8);
  const share = (ms: number) => (p.totalMs ? (100 * ms) / p.totalMs : 0).toFixed(1).padStart(5);
  const lines = [`profile: ${p.steps} steps, ${per(p.totalMs).trim()} ms/step`, "phase        ms/step      %"];
  for (const ph of FIT_PHASES) lines.push(`${ph.padEnd(10)} ${per(p.phases[ph])}  ${share(p.phases[ph])}`);
  if (p.kernels.length) {
    lines.push("kernel                      ms/step      %   calls/step");
    for (const k of p.kernels.slice(0, top)) {
      lines.push(
        `${k.name.padEnd(26)} ${per(k.ms)}  ${share(k.ms)}  ${
          (p.steps ? k.calls / p.steps : 0).toFixed(1).padStart(8)
        }`,
      );
    }
  }
  return lines.join("\n");
}
