/**
 * The declarations of the trainer's optimizers ({@link OPTIMIZER_REGISTRY}) and learning-rate
 * schedules ({@link SCHEDULE_REGISTRY}): name, summary, parameters with their types, defaults and
 * ranges, and the constructor, stated once. `fit` builds a named optimizer from them and the CLI
 * config reads them; a new optimizer or schedule is its function and one entry here.
 *
 * @example
 * ```ts
 * import { OPTIMIZER_REGISTRY, SCHEDULE_REGISTRY } from "@likeness/trainer";
 * import assert from "node:assert/strict";
 * assert.equal(OPTIMIZER_REGISTRY.create("sgd", { momentum: 0.9 }).name, "sgd");
 * const lr = SCHEDULE_REGISTRY.create("step", { lr: 1, stepSize: 2, gamma: 0.5 });
 * assert.equal(lr({ step: 0, epoch: 2, stepsPerEpoch: 1, totalSteps: 4 }), 0.5);
 * assert.throws(() => OPTIMIZER_REGISTRY.create("adma"), { code: "UNKNOWN_NAME" });
 * ```
 *
 * @module
 */
import { ComponentRegistry, s } from "@likeness/core";
import { adam, type AdamOptions, type Optimizer, sgd, type SgdOptions } from "./optimizers.ts";
import { constantLr, cosineLr, type LrSchedule, stepLr } from "./schedule.ts";

/** Every optimizer by name (`adam`, `sgd`). */
export const OPTIMIZER_REGISTRY: ComponentRegistry<Optimizer> = new ComponentRegistry<Optimizer>("optimizer");

const weightDecay = s.number({ min: 0, default: 0 });

OPTIMIZER_REGISTRY.register({
  name: "adam",
  summary: "Adam with bias correction; AdamW (decoupled weight decay) when weightDecay > 0.",
  params: {
    beta1: s.number({ min: 0, max: 0.999999, default: 0.9, summary: "First-moment decay." }),
    beta2: s.number({ min: 0, max: 0.999999999, default: 0.999, summary: "Second-moment decay." }),
    epsilon: { ...s.positive(1e-8), summary: "Denominator epsilon." },
    weightDecay: { ...weightDecay, summary: "Decoupled weight decay per step, times the learning rate." },
  },
  create: (p) => adam(p as AdamOptions),
});
OPTIMIZER_REGISTRY.register({
  name: "sgd",
  summary: "Stochastic gradient descent with optional (Nesterov) momentum, as torch.optim.SGD.",
  params: {
    momentum: s.number({ min: 0, max: 1, default: 0, summary: "Momentum." }),
    nesterov: { ...s.boolean(false), summary: "Nesterov momentum." },
    weightDecay: { ...weightDecay, summary: "L2 weight decay added to the gradient." },
  },
  create: (p) => sgd(p as SgdOptions),
});

/** Every learning-rate schedule by name (`constant`, `step`, `cosine`); each takes the base rate `lr`. */
export const SCHEDULE_REGISTRY: ComponentRegistry<LrSchedule> = new ComponentRegistry<LrSchedule>("schedule");

const lr = { ...s.positive(1e-3), summary: "The base learning rate (the CLI fills it from trainer.lr)." };

SCHEDULE_REGISTRY.register({
  name: "constant",
  summary: "The same rate every step.",
  params: { lr },
  create: (p) => constantLr((p.lr as number | undefined) ?? 1e-3),
});
SCHEDULE_REGISTRY.register({
  name: "step",
  summary: "lr × gamma^floor(epoch / stepSize).",
  params: {
    lr,
    stepSize: { ...s.positiveInt(), summary: "Epochs between decays." },
    gamma: { ...s.positive(0.1), summary: "Decay factor." },
  },
  required: ["stepSize"],
  example: { stepSize: 1 },
  create: (p) => stepLr({ ...p, lr: (p.lr as number | undefined) ?? 1e-3 } as Parameters<typeof stepLr>[0]),
});
SCHEDULE_REGISTRY.register({
  name: "cosine",
  summary: "Cosine annealing from lr to minLr over the run, after an optional linear warm-up.",
  params: {
    lr,
    minLr: s.number({ min: 0, default: 0, summary: "The rate at the end (at most lr)." }),
    warmupSteps: { ...s.nonNegativeInt(0), summary: "Steps of linear warm-up." },
  },
  create: (p) => cosineLr({ ...p, lr: (p.lr as number | undefined) ?? 1e-3 } as Parameters<typeof cosineLr>[0]),
});
