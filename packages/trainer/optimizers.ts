/**
 * Optimisers (Adam with optional decoupled weight decay, SGD with momentum) written on
 * functional tfjs ops, with state that can be saved in a checkpoint and restored exactly.
 *
 * @module
 */
import { checkFiniteNumber, ShapeError } from "@likeness/core";
import type { NamedTensor } from "@likeness/models";
import { tf } from "@likeness/tf";

/** An optimiser over a fixed, ordered list of variables. */
export interface Optimizer {
  /** `adam` or `sgd`. */
  readonly name: string;
  /**
   * One update step (call inside `tf.tidy`).
   * @param vars variables, in the same order every step
   * @param grads one gradient per variable (`undefined` = no gradient this step)
   * @param lr learning rate of this step
   */
  apply(vars: readonly tf.Variable[], grads: readonly (tf.Tensor | undefined)[], lr: number): void;
  /** @returns slot tensors and scalar state for a checkpoint */
  getState(): { tensors: NamedTensor[]; meta: Record<string, number> };
  /**
   * Restore state saved by `getState` (before the first `apply`).
   * @param state tensors and meta
   * @param vars the variables (for shapes)
   */
  setState(
    state: { tensors: readonly NamedTensor[]; meta: Record<string, number> },
    vars: readonly tf.Variable[],
  ): void;
  /** Free the slot variables. */
  dispose(): void;
}

function checkRate(v: number, name: string, lo = 0, hi = Infinity): number {
  return checkFiniteNumber(v, name, "the optimizer", { min: lo, max: hi === Infinity ? undefined : hi });
}

class Slots {
  readonly #slots = new Map<string, tf.Variable[]>();
  get(kind: string, vars: readonly tf.Variable[]): tf.Variable[] {
    let s = this.#slots.get(kind);
    if (!s) {
      s = vars.map((v) => tf.variable(tf.zerosLike(v), false));
      this.#slots.set(kind, s);
    }
    return s;
  }
  export(): NamedTensor[] {
    const out: NamedTensor[] = [];
    for (const [kind, list] of this.#slots) {
      list.forEach((v, i) =>
        out.push({ name: `${kind}/${i}`, shape: [...v.shape], values: new Float32Array(v.dataSync() as Float32Array) })
      );
    }
    return out;
  }
  import(tensors: readonly NamedTensor[], vars: readonly tf.Variable[], kinds: readonly string[]): void {
    const by = new Map(tensors.map((t) => [t.name, t]));
    for (const kind of kinds) {
      if (!vars.some((_, i) => by.has(`${kind}/${i}`))) continue;
      const slots = this.get(kind, vars);
      vars.forEach((v, i) => {
        const t = by.get(`${kind}/${i}`);
        if (!t) return;
        if (t.shape.length !== v.shape.length || t.shape.some((d, k) => d !== v.shape[k])) {
          throw new ShapeError(
            `Cannot restore optimiser state ${kind}/${i}: shape [${t.shape}] but the variable is [${v.shape}]; the model changed since the checkpoint`,
          );
        }
        slots[i].assign(tf.tensor(t.values, t.shape, "float32"));
      });
    }
  }
  dispose(): void {
    for (const list of this.#slots.values()) for (const v of list) v.dispose();
    this.#slots.clear();
  }
}

/** Options of {@link adam}. */
export interface AdamOptions {
  /** First-moment decay (default 0.9). */
  beta1?: number;
  /** Second-moment decay (default 0.999). */
  beta2?: number;
  /** Denominator epsilon (default 1e-8). */
  epsilon?: number;
  /** Decoupled weight decay (AdamW) per step, multiplied by the learning rate (default 0). */
  weightDecay?: number;
}

/**
 * Adam (Kingma & Ba) with bias correction; AdamW when `weightDecay > 0`.
 *
 * @param options betas, epsilon, weight decay
 * @returns an {@link Optimizer}
 * @throws {ValueError} INVALID_ARGUMENT for out-of-range options
 * @example
 * ```ts
 * import { adam } from "@likeness/trainer";
 * const opt = adam({ beta1: 0.9, weightDecay: 1e-4 });
 * console.log(opt.name); // adam
 * ```
 */
export function adam(options: AdamOptions = {}): Optimizer {
  const b1 = checkRate(options.beta1 ?? 0.9, "beta1", 0, 0.999999);
  const b2 = checkRate(options.beta2 ?? 0.999, "beta2", 0, 0.999999999);
  const eps = checkRate(options.epsilon ?? 1e-8, "epsilon");
  const wd = checkRate(options.weightDecay ?? 0, "weightDecay");
  const slots = new Slots();
  let t = 0;
  return {
    name: "adam",
    apply(vars, grads, lr) {
      t++;
      const m = slots.get("m", vars);
      const v = slots.get("v", vars);
      const c1 = 1 - Math.pow(b1, t);
      const c2 = 1 - Math.pow(b2, t);
      vars.forEach((w, i) => {
        const g = grads[i];
        if (!g) return;
        const m1 = tf.add(tf.mul(m[i], b1), tf.mul(g, 1 - b1));
        const v1 = tf.add(tf.mul(v[i], b2), tf.mul(tf.square(g), 1 - b2));
        m[i].assign(m1);
        v[i].assign(v1);
        const step = tf.div(tf.div(m1, c1), tf.add(tf.sqrt(tf.div(v1, c2)), eps));
        let next = tf.sub(w, tf.mul(step, lr));
        if (wd > 0) next = tf.sub(next, tf.mul(w, lr * wd));
        w.assign(next);
      });
    },
    getState: () => ({ tensors: slots.export(), meta: { t } }),
    setState(state, vars) {
      slots.import(state.tensors, vars, ["m", "v"]);
      t = state.meta.t ?? 0;
    },
    dispose: () => slots.dispose(),
  };
}

/** Options of {@link sgd}. */
export interface SgdOptions {
  /** Momentum (default 0). */
  momentum?: number;
  /** Nesterov momentum (default false). */
  nesterov?: boolean;
  /** L2 weight decay added to the gradient (default 0). */
  weightDecay?: number;
}

/**
 * Stochastic gradient descent with optional (Nesterov) momentum, as torch.optim.SGD.
 *
 * @param options momentum, nesterov, weight decay
 * @returns an {@link Optimizer}
 * @throws {ValueError} INVALID_ARGUMENT for out-of-range options
 * @example
 * ```ts
 * import { sgd } from "@likeness/trainer";
 * console.log(sgd({ momentum: 0.9 }).name); // sgd
 * ```
 */
export function sgd(options: SgdOptions = {}): Optimizer {
  const mu = checkRate(options.momentum ?? 0, "momentum", 0, 1);
  const wd = checkRate(options.weightDecay ?? 0, "weightDecay");
  const nesterov = options.nesterov ?? false;
  const slots = new Slots();
  let t = 0;
  return {
    name: "sgd",
    apply(vars, grads, lr) {
      t++;
      const buf = mu > 0 ? slots.get("momentum", vars) : [];
      vars.forEach((w, i) => {
        let g = grads[i];
        if (!g) return;
        if (wd > 0) g = tf.add(g, tf.mul(w, wd));
        if (mu > 0) {
          const b = t === 1 ? g : tf.add(tf.mul(buf[i], mu), g);
          buf[i].assign(b);
          g = nesterov ? tf.add(g, tf.mul(b, mu)) : b;
        }
        w.assign(tf.sub(w, tf.mul(g, lr)));
      });
    },
    getState: () => ({ tensors: slots.export(), meta: { t } }),
    setState(state, vars) {
      slots.import(state.tensors, vars, ["momentum"]);
      t = state.meta.t ?? 0;
    },
    dispose: () => slots.dispose(),
  };
}
