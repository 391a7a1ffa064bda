/**
 * Discriminative learning rates: an {@link Optimizer} that updates groups of variables with their
 * own learning-rate multipliers (e.g. a pre-trained backbone at 0.1× the head's rate), each group
 * with its own optimiser state. A drop-in `optimizer` for `fit`; `fit` itself is unchanged.
 *
 * @module
 */
import { checkFiniteNumber, ValueError } from "@likeness/core";
import type { NamedTensor } from "@likeness/models";
import type { tf } from "@likeness/tf";
import { adam, type Optimizer } from "./optimizers.ts";

/** One parameter group. */
export interface ParamGroup {
  /** Name, used in checkpoints (default `g<index>`). */
  name?: string;
  /** The variables of this group (e.g. `encoder.variables()`). */
  variables: readonly tf.Variable[];
  /** Multiplier of the schedule's learning rate for this group (default 1; 0 freezes the group). */
  lrScale?: number;
}

/** Options of {@link paramGroups}. */
export interface ParamGroupsOptions {
  /** The groups; a variable that is in no group trains at 1× in a group named `rest`. */
  groups: readonly ParamGroup[];
  /** Makes each group's optimiser (default `() => adam()`). */
  optimizer?: () => Optimizer;
}

/**
 * An optimiser with per-group learning-rate multipliers (discriminative learning rates).
 * @param options groups and the optimiser factory
 * @returns an {@link Optimizer} named `groups(<inner>)`
 * @throws {ValueError} INVALID_ARGUMENT for a negative or non-finite `lrScale`, a duplicate group name, or a
 *   variable in two groups
 * @example
 * ```ts
 * import { MlpEncoder, LinearHead, SimilarityModel } from "@likeness/models";
 * import { paramGroups } from "@likeness/trainer";
 * const model = new SimilarityModel(
 *   new MlpEncoder({ inputDim: 4, hidden: [8], outputDim: 8, seed: 1 }),
 *   new LinearHead({ inputDim: 8, outputDim: 2, seed: 2 }),
 * );
 * const optimizer = paramGroups({
 *   groups: [{ name: "backbone", variables: model.encoder.variables(), lrScale: 0.1 }],
 * });
 * console.log(optimizer.name); // groups(adam)
 * ```
 */
export function paramGroups(options: ParamGroupsOptions): Optimizer {
  const make = options.optimizer ?? (() => adam());
  const owner = new Map<tf.Variable, number>();
  const names: string[] = [];
  const scales: number[] = [];
  (options.groups ?? []).forEach((g, k) => {
    const scale = g.lrScale ?? 1;
    checkFiniteNumber(scale, "lrScale", `parameter group ${k}`, { min: 0 });
    const name = g.name ?? `g${k}`;
    if (names.includes(name) || name === "rest") {
      throw new ValueError(
        "INVALID_ARGUMENT",
        `Invalid parameter group name ${JSON.stringify(name)}: names must be unique and not "rest"`,
      );
    }
    for (const v of g.variables) {
      if (owner.has(v)) {
        throw new ValueError(
          "INVALID_ARGUMENT",
          `Variable ${v.name} is in two parameter groups (${names[owner.get(v)!]} and ${name})`,
        );
      }
      owner.set(v, k);
    }
    names.push(name);
    scales.push(scale);
  });
  names.push("rest");
  scales.push(1);
  const rest = names.length - 1;
  const inner = names.map(() => make());
  const split = <X>(vars: readonly tf.Variable[], xs: readonly X[]) => {
    const parts = names.map(() => ({ vars: [] as tf.Variable[], xs: [] as X[] }));
    vars.forEach((v, i) => {
      const p = parts[owner.get(v) ?? rest];
      p.vars.push(v);
      p.xs.push(xs[i]);
    });
    return parts;
  };
  return {
    name: `groups(${inner[0].name})`,
    apply(vars, grads, lr) {
      split(vars, grads).forEach((p, k) => {
        if (p.vars.length > 0 && scales[k] > 0) inner[k].apply(p.vars, p.xs, lr * scales[k]);
      });
    },
    getState() {
      const tensors: NamedTensor[] = [];
      const meta: Record<string, number> = {};
      inner.forEach((o, k) => {
        const s = o.getState();
        for (const t of s.tensors) tensors.push({ ...t, name: `${names[k]}/${t.name}` });
        for (const [key, v] of Object.entries(s.meta)) meta[`${names[k]}.${key}`] = v;
      });
      return { tensors, meta };
    },
    setState(state, vars) {
      const parts = split(vars, vars);
      inner.forEach((o, k) => {
        const p = `${names[k]}/`;
        const meta: Record<string, number> = {};
        for (const [key, v] of Object.entries(state.meta)) {
          if (key.startsWith(`${names[k]}.`)) meta[key.slice(names[k].length + 1)] = v;
        }
        o.setState({
          tensors: state.tensors.filter((t) => t.name.startsWith(p)).map((t) => ({
            ...t,
            name: t.name.slice(p.length),
          })),
          meta,
        }, parts[k].vars);
      });
    },
    dispose() {
      for (const o of inner) o.dispose();
    },
  };
}
