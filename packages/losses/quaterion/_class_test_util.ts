/**
 * Shared checks for the class-weight losses (SoftmaxLoss, ArcFaceLoss, CosFaceLoss, CenterLoss).
 *
 * @module
 */
import assert from "node:assert/strict";
import { tf } from "@likeness/tf";
import type { Loss } from "../types.ts";
import { hasCode, lossValue } from "./_test_util.ts";

/** Out-of-range class ids, wrong embedding width and label mismatch are typed errors; the weight is trainable. */
export function classWeightErrors(loss: Loss, emb: number[][], weight: tf.Variable): void {
  assert.throws(() => lossValue(loss, emb, { labels: emb.map(() => 99) }), hasCode("OUT_OF_RANGE"));
  assert.throws(() => lossValue(loss, emb, { labels: emb.map(() => -1) }), hasCode("OUT_OF_RANGE"));
  assert.throws(() => lossValue(loss, emb, { labels: emb.map(() => "a") }), hasCode("OUT_OF_RANGE"));
  assert.throws(() => lossValue(loss, emb, { labels: [0] }), hasCode("LABEL_MISMATCH"));
  assert.throws(
    () => lossValue(loss, emb.map((r) => [...r, 0]), { labels: emb.map(() => 0) }),
    hasCode("SHAPE_MISMATCH"),
  );
  assert.throws(
    () => lossValue(loss, emb.map((r) => r.map(() => NaN)), { labels: emb.map(() => 0) }),
    hasCode("NON_FINITE"),
  );
  assert.deepEqual(loss.trainableVariables(), [weight]);
  assert.equal(weight.trainable, true);
}

/** The gradient with respect to the learned weight is non-zero (the trainer can optimise it). */
export function weightGetsGradient(loss: Loss, emb: number[][], labels: number[]): void {
  const x = tf.tensor2d(emb);
  const { grads } = tf.variableGrads(() => loss.compute(x, { labels }), loss.trainableVariables());
  const g = Object.values(grads)[0];
  assert.ok(Array.from(g.dataSync()).some((v) => v !== 0));
  assert.ok(Array.from(g.dataSync()).every(Number.isFinite));
  tf.dispose([x, ...Object.values(grads)]);
}
