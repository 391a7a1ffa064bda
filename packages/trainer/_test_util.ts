// Private test helpers: a small group loss with one learned parameter, and toy data.
import type { Loss, LossTarget } from "@likeness/losses";
import { sameLabelMatrix } from "@likeness/core";
import { tf } from "@likeness/tf";

/** Contrastive loss on squared distances (margin 1) plus (s - 2)^2 for a learned scalar s. */
export class ToyLoss implements Loss {
  readonly name = "ToyLoss";
  readonly s = tf.variable(tf.scalar(0));
  calls = 0;
  /** Return NaN from this call on (1-based), for the non-finite test. */
  nanFrom = Infinity;
  compute(e: tf.Tensor2D, target: LossTarget): tf.Scalar {
    this.calls++;
    const n = e.shape[0];
    const same = tf.tensor2d(Array.from(sameLabelMatrix(target.labels!)), [n, n]);
    const sq = tf.sum(tf.square(e), 1, true);
    const d = tf.relu(tf.sub(tf.add(sq, tf.transpose(sq)), tf.mul(2, tf.matMul(e, e, false, true))));
    const pos = tf.mean(tf.mul(same, d));
    const neg = tf.mean(tf.mul(tf.sub(1, same), tf.relu(tf.sub(1, d))));
    const out = tf.add(tf.add(pos, neg), tf.square(tf.sub(this.s, 2))) as tf.Scalar;
    return this.calls >= this.nanFrom ? tf.mul(out, NaN) as tf.Scalar : out;
  }
  trainableVariables(): tf.Variable[] {
    return [this.s];
  }
}

/** Two clusters in 4-D, `per` items each, labelled 0 and 1. */
export function toyData(per = 8): { inputs: number[][]; labels: number[] } {
  const inputs: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < per * 2; i++) {
    const c = i % 2;
    inputs.push([c * 2 + Math.sin(i) * 0.3, -c + Math.cos(i) * 0.3, Math.sin(i * 3) * 0.2, c]);
    labels.push(c);
  }
  return { inputs, labels };
}
