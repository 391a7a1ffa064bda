/**
 * Learning-rate schedules: functions of the step and epoch.
 *
 * @module
 */
import { checkFiniteNumber, ValueError } from "@likeness/core";

/** Where training is when the learning rate is asked for. */
export interface ScheduleContext {
  /** Global step (0-based) of the update about to be applied. */
  step: number;
  /** Epoch (0-based). */
  epoch: number;
  /** Steps per epoch. */
  stepsPerEpoch: number;
  /** Steps in the whole run. */
  totalSteps: number;
}

/** A learning-rate schedule. */
export type LrSchedule = (ctx: ScheduleContext) => number;

function positive(v: number, name: string): number {
  return checkFiniteNumber(v, name, "the learning-rate schedule", { min: 0, minExclusive: true });
}

/**
 * Constant learning rate.
 * @param lr the rate
 * @returns a schedule
 * @throws {ValueError} INVALID_ARGUMENT for a non-positive rate
 * @example
 * ```ts
 * import { constantLr } from "@likeness/trainer";
 * import assert from "node:assert/strict";
 * assert.equal(constantLr(0.01)({ step: 5, epoch: 0, stepsPerEpoch: 10, totalSteps: 10 }), 0.01);
 * ```
 */
export function constantLr(lr: number): LrSchedule {
  positive(lr, "learning rate");
  return () => lr;
}

/**
 * Step decay: `lr * gamma^floor(epoch / stepSize)`.
 * @param options `lr`, `stepSize` in epochs, `gamma` (default 0.1)
 * @returns a schedule
 * @throws {ValueError} INVALID_ARGUMENT for non-positive values
 * @example
 * ```ts
 * import { stepLr } from "@likeness/trainer";
 * import assert from "node:assert/strict";
 * const s = stepLr({ lr: 1, stepSize: 2, gamma: 0.5 });
 * assert.equal(s({ step: 0, epoch: 3, stepsPerEpoch: 1, totalSteps: 4 }), 0.5);
 * ```
 */
export function stepLr(options: { lr: number; stepSize: number; gamma?: number }): LrSchedule {
  const lr = positive(options.lr, "lr");
  const size = positive(options.stepSize, "stepSize");
  const gamma = positive(options.gamma ?? 0.1, "gamma");
  return ({ epoch }) => lr * Math.pow(gamma, Math.floor(epoch / size));
}

/**
 * Cosine annealing from `lr` to `minLr` over the run, after an optional linear warm-up.
 * @param options `lr`, `minLr` (default 0), `warmupSteps` (default 0)
 * @returns a schedule
 * @throws {ValueError} INVALID_ARGUMENT for bad values
 * @example
 * ```ts
 * import { cosineLr } from "@likeness/trainer";
 * import assert from "node:assert/strict";
 * const s = cosineLr({ lr: 1, minLr: 0 });
 * assert.ok(Math.abs(s({ step: 5, epoch: 0, stepsPerEpoch: 10, totalSteps: 10 }) - 0.5) < 1e-12);
 * ```
 */
export function cosineLr(options: { lr: number; minLr?: number; warmupSteps?: number }): LrSchedule {
  const lr = positive(options.lr, "lr");
  const minLr = options.minLr ?? 0;
  const warm = options.warmupSteps ?? 0;
  if (!(minLr >= 0 && minLr <= lr)) {
    throw new ValueError("INVALID_ARGUMENT", `Invalid minLr ${minLr}: expected 0 <= minLr <= lr`);
  }
  checkFiniteNumber(warm, "warmupSteps", "cosineLr", { min: 0, integer: true });
  return ({ step, totalSteps }) => {
    if (step < warm) return lr * (step + 1) / warm;
    const span = Math.max(1, totalSteps - warm);
    const p = Math.min(1, (step - warm) / span);
    return minLr + (lr - minLr) * 0.5 * (1 + Math.cos(Math.PI * p));
  };
}
