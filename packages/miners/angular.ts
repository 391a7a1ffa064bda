/**
 * AngularMiner: triplets whose angle at the negative exceeds a threshold.
 *
 * @module
 */
import { checkFiniteNumber } from "@likeness/core";
import type { Label } from "@likeness/core";
import { _step, _SteppedMiner, type _Steps, _toMatrix } from "./_base.ts";
import { checkLabels, equalLabels, sameLabelMatrix, ValueError } from "@likeness/core";
import type { MinedIndices, MineOptions, MinerBackend, MinerInput } from "./types.ts";

/** Options of {@link AngularMiner}. */
export interface AngularMinerOptions {
  /** Threshold angle in degrees (default 20). */
  angle?: number;
  /** Backend computing the Gram matrix (default: the shared default backend). */
  backend?: MinerBackend | Promise<MinerBackend>;
}

/** pytorch's `pairwise_distance` eps, added to every difference before the norm. */
const EPS = 1e-6;

/**
 * AngularMiner (pytorch-metric-learning 2.8.1 semantics, after "Deep Metric Learning with
 * Angular Loss"): keeps every triplet (a, p, n) whose angle
 * atan(‖x_a − x_p‖ / (2‖x_n − c‖)), c = (x_a + x_p) / 2, exceeds `angle` degrees.
 *
 * As in the peer, the distances are L2 distances of the raw embeddings (the peer requires a
 * normalising LpDistance but its `pairwise_distance` does not normalise) and, like pytorch's
 * `pairwise_distance`, 1e-6 is added to each difference. Distances come from one Gram matrix on
 * the backend: ‖u + ε‖² = ‖u‖² + 2ε Σu + Dε².
 *
 * @example
 * ```ts
 * import { AngularMiner } from "@likeness/miners";
 * const miner = new AngularMiner({ angle: 20 });
 * const emb = { data: new Float32Array([1, 0, 0.6, 0.8, 0, 1, 0.8, 0.6]), rows: 4, cols: 2 };
 * const { triplets } = await miner.mine(emb, [0, 0, 1, 1]);
 * console.log(triplets?.length);
 * ```
 */
export class AngularMiner extends _SteppedMiner {
  /** Class name. */
  readonly name = "AngularMiner";
  /** Threshold in degrees. */
  readonly angle: number;

  /**
   * @param options angle (20 degrees), backend
   * @throws {ValueError} INVALID_ARGUMENT when the angle is not in [0, 90]
   */
  constructor(options: AngularMinerOptions = {}) {
    super(options.backend);
    this.angle = checkFiniteNumber(options.angle ?? 20, "angle", "AngularMiner");
    if (this.angle < 0 || this.angle > 90) {
      throw new ValueError("INVALID_ARGUMENT", `Invalid angle ${this.angle}: expected degrees in [0, 90]`);
    }
  }

  protected *_steps(embeddings: MinerInput, labels: readonly Label[], options?: MineOptions): _Steps<MinedIndices> {
    const emb = yield* _toMatrix(embeddings);
    const b = emb.rows;
    const d = emb.cols;
    checkLabels(labels, b);
    const same = sameLabelMatrix(labels, options?.match ?? equalLabels);
    const gram = (yield* _step((c) => c.ops.pairwise(emb, emb, "dot"))).data;
    const sums = new Float64Array(b);
    for (let i = 0; i < b; i++) for (let k = 0; k < d; k++) sums[i] += emb.data[i * d + k];
    const tanThreshold = Math.tan((this.angle * Math.PI) / 180);
    const de2 = d * EPS * EPS;
    const triplets: [number, number, number][] = [];
    for (let a = 0; a < b; a++) {
      for (let p = 0; p < b; p++) {
        if (p === a || same[a * b + p] === 0) continue;
        // ‖x_a − x_p + ε‖²
        const ap2 = gram[a * b + a] + gram[p * b + p] - 2 * gram[a * b + p] + 2 * EPS * (sums[a] - sums[p]) + de2;
        const ap = Math.sqrt(Math.max(ap2, 0));
        // ‖c‖² with c = (x_a + x_p) / 2
        const cc = (gram[a * b + a] + gram[p * b + p] + 2 * gram[a * b + p]) / 4;
        const cs = (sums[a] + sums[p]) / 2;
        for (let n = 0; n < b; n++) {
          if (same[a * b + n] !== 0) continue;
          const nc2 = gram[n * b + n] - (gram[n * b + a] + gram[n * b + p]) + cc + 2 * EPS * (sums[n] - cs) + de2;
          const nc = Math.sqrt(Math.max(nc2, 0));
          // atan(ap / (2 nc)) > angle  ⇔  ap / (2 nc) > tan(angle)  (atan is increasing; nc = 0 gives +∞)
          if (ap > 2 * nc * tanThreshold) triplets.push([a, p, n]);
        }
      }
    }
    return { triplets };
  }
}
