import { test } from "node:test";
import assert from "node:assert/strict";
import { tf, useTfBackend } from "@likeness/tf";
import { createRng, type Label, ShapeError, sharesAnyLabel, ValueError } from "@likeness/core";
import { assertClose } from "@likeness/core/testing";
import {
  CrossBatchMemory,
  PmlContrastiveLoss,
  PmlMultiSimilarityLoss,
  PmlNCALoss,
  PmlTripletMarginLoss,
  type XbmLossKind,
} from "@likeness/losses";

await useTfBackend("wasm");

function batch(n: number, d: number, seed: number): number[][] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => Array.from({ length: d }, () => rng.normal()));
}

const unit = (r: number[]) => {
  const n = Math.hypot(...r);
  return r.map((v) => v / n);
};
const l2 = (u: number[], v: number[]) => Math.hypot(...u.map((x, k) => x - v[k]));
const dot = (u: number[], v: number[]) => u.reduce((s, x, k) => s + x * v[k], 0);

/** Brute-force XBM loss of `q` (with labels) against memory rows `mem`; `self[i]` is q_i's slot. */
function brute(
  kind: XbmLossKind,
  q: number[][],
  ql: Label[],
  mem: number[][],
  ml: Label[],
  self: number[],
  match = (a: Label, b: Label) => a === b,
  margin = 0.05,
) {
  const Q = q.map(unit);
  const M = mem.map(unit);
  const isPos = (i: number, j: number) => j !== self[i] && match(ql[i], ml[j]);
  const isNeg = (i: number, j: number) => !match(ql[i], ml[j]);
  const avgNonZero = (xs: number[]) => {
    const nz = xs.filter((x) => x > 0);
    return nz.length ? nz.reduce((s, x) => s + x, 0) / nz.length : 0;
  };
  if (kind === "contrastive") {
    const p: number[] = [];
    const n: number[] = [];
    Q.forEach((a, i) =>
      M.forEach((b, j) => {
        if (isPos(i, j)) p.push(Math.max(l2(a, b) - 0, 0));
        else if (isNeg(i, j)) n.push(Math.max(1 - l2(a, b), 0));
      })
    );
    return avgNonZero(p) + avgNonZero(n);
  }
  if (kind === "triplet") {
    const t: number[] = [];
    Q.forEach((a, i) =>
      M.forEach((p, j) => {
        if (!isPos(i, j)) return;
        M.forEach((n, k) => {
          if (isNeg(i, k)) t.push(Math.max(l2(a, p) - l2(a, n) + margin, 0));
        });
      })
    );
    return avgNonZero(t);
  }
  let total = 0;
  Q.forEach((a, i) => {
    let ps = 0;
    let ns = 0;
    M.forEach((b, j) => {
      const s = dot(a, b);
      if (isPos(i, j)) ps += Math.exp(-2 * (s - 0.5));
      else if (isNeg(i, j)) ns += Math.exp(50 * (s - 0.5));
    });
    total += Math.log(1 + ps) / 2 + Math.log(1 + ns) / 50;
  });
  return total / Q.length;
}

const kinds: XbmLossKind[] = ["triplet", "contrastive", "multi_similarity"];

test("XBM on an empty memory equals the plain pml loss of the batch", () => {
  const e = batch(8, 4, 1);
  const labels = [0, 1, 2, 0, 1, 2, 0, 1];
  const x = tf.tensor2d(e);
  const plain = {
    triplet: new PmlTripletMarginLoss(),
    contrastive: new PmlContrastiveLoss(),
    multi_similarity: new PmlMultiSimilarityLoss(),
  };
  for (const kind of kinds) {
    const got = new CrossBatchMemory({ loss: kind, memorySize: 16 }).compute(x, { labels }).dataSync()[0];
    const want = plain[kind].compute(x, { labels }).dataSync()[0];
    assertClose(got, want, { rtol: 1e-4, atol: 1e-6, what: kind });
    assertClose(got, brute(kind, e, labels, e, labels, [0, 1, 2, 3, 4, 5, 6, 7]), {
      rtol: 1e-4,
      atol: 1e-6,
      what: kind,
    });
    assert.ok(got > 0, kind);
  }
  x.dispose();
});

test("XBM is a FIFO: later batches see earlier ones, the oldest rows are overwritten", () => {
  const b1 = batch(4, 3, 2);
  const b2 = batch(4, 3, 3);
  const b3 = batch(4, 3, 4);
  const l1 = [0, 1, 0, 1];
  const l2s = [1, 2, 2, 0];
  const l3 = [2, 0, 1, 1];
  for (const kind of kinds) {
    const xbm = new CrossBatchMemory({ loss: kind, memorySize: 10 });
    tf.tidy(() => xbm.compute(tf.tensor2d(b1), { labels: l1 }));
    const v2 = tf.tidy(() => xbm.compute(tf.tensor2d(b2), { labels: l2s }).dataSync()[0]);
    assert.equal(xbm.size, 8);
    assertClose(v2, brute(kind, b2, l2s, [...b1, ...b2], [...l1, ...l2s], [4, 5, 6, 7]), {
      rtol: 1e-4,
      atol: 1e-6,
      what: `${kind} step 2`,
    });
    const v3 = tf.tidy(() => xbm.compute(tf.tensor2d(b3), { labels: l3 }).dataSync()[0]);
    assert.equal(xbm.size, 10);
    // slots 8, 9 then 0, 1 (rows 0-1 of batch 1 are gone)
    const mem = [...b3.slice(2), b1[2], b1[3], ...b2, ...b3.slice(0, 2)];
    const ml = [...l3.slice(2), l1[2], l1[3], ...l2s, ...l3.slice(0, 2)];
    assertClose(v3, brute(kind, b3, l3, mem, ml, [8, 9, 0, 1]), { rtol: 1e-4, atol: 1e-6, what: `${kind} step 3` });
    xbm.reset();
    assert.equal(xbm.size, 0);
  }
});

test("XBM gradient w.r.t. the current batch is finite and non-zero; multi-label matcher", () => {
  const e = batch(6, 4, 5);
  const labels: Label[] = [[0, 1], [1], [2], [0], [2, 1], [3]];
  const xbm = new CrossBatchMemory({ loss: "contrastive", memorySize: 12 });
  tf.tidy(() =>
    xbm.compute(tf.tensor2d(batch(6, 4, 6)), { labels: [[0], [1], [2], [3], [1], [2]], match: sharesAnyLabel })
  );
  const x = tf.tensor2d(e);
  const g = tf.grad((t: tf.Tensor) => xbm.compute(t as tf.Tensor2D, { labels, match: sharesAnyLabel }))(x);
  assert.deepEqual(g.shape, [6, 4]);
  const gv = Array.from(g.dataSync());
  assert.ok(gv.every(Number.isFinite) && gv.some((v) => Math.abs(v) > 1e-4));
  const value = tf.tidy(() =>
    new CrossBatchMemory({ loss: "contrastive" }).compute(x, { labels, match: sharesAnyLabel }).dataSync()[0]
  );
  assertClose(value, brute("contrastive", e, labels, e, labels, [0, 1, 2, 3, 4, 5], sharesAnyLabel), {
    rtol: 1e-4,
    atol: 1e-6,
  });
  tf.dispose([x, g]);
});

test("XBM rejects bad input with typed errors", () => {
  const x = tf.tensor2d(batch(4, 2, 1));
  assert.throws(
    () => new CrossBatchMemory({ loss: "npairs" as never }),
    (e: unknown) => e instanceof ValueError && e.code === "UNKNOWN_NAME",
  );
  assert.throws(
    () => new CrossBatchMemory({ loss: "triplet", memorySize: 0 }),
    (e: unknown) => e instanceof ValueError,
  );
  assert.throws(
    () => new CrossBatchMemory({ loss: "triplet", memorySize: 3 }).compute(x, { labels: [0, 1, 0, 1] }),
    (e: unknown) => e instanceof ShapeError,
  );
  const xbm = new CrossBatchMemory({ loss: "triplet" });
  assert.throws(
    () => xbm.compute(x, { labels: [0, 1] }),
    (e: unknown) => e instanceof ShapeError && e.code === "LABEL_MISMATCH",
  );
  assert.throws(() => xbm.compute(x, {}), (e: unknown) => e instanceof ValueError && e.code === "INVALID_ARGUMENT");
  tf.tidy(() => xbm.compute(x, { labels: [0, 1, 0, 1] }));
  assert.throws(() => xbm.compute(tf.tensor2d([[1, 2, 3]]), { labels: [0] }), (e: unknown) => e instanceof ShapeError);
  x.dispose();
});

test("XBM wraps any loss that accepts a reference set; zero when margins hold; no positives gives 0", () => {
  const e = batch(9, 3, 8);
  const labels = [0, 1, 2, 0, 1, 2, 0, 1, 2];
  const x = tf.tensor2d(e);
  // a wrapped loss instance and the shorthand with the same parameters give the same value and gradient
  const run = (xbm: CrossBatchMemory) =>
    tf.valueAndGrad((t: tf.Tensor) => xbm.compute(t as tf.Tensor2D, { labels }))(x);
  const whole = run(new CrossBatchMemory({ loss: "triplet", memorySize: 9, margin: 0.3 }));
  const blocked = run(new CrossBatchMemory({ loss: new PmlTripletMarginLoss({ margin: 0.3 }), memorySize: 9 }));
  assertClose(blocked.value.dataSync()[0], whole.value.dataSync()[0], { rtol: 1e-6 });
  assertClose(blocked.grad.dataSync(), whole.grad.dataSync(), { rtol: 1e-5, atol: 1e-7 });
  assertClose(
    whole.value.dataSync()[0],
    brute("triplet", e, labels, e, labels, [0, 1, 2, 3, 4, 5, 6, 7, 8], undefined, 0.3),
    {
      rtol: 1e-4,
      atol: 1e-6,
    },
  );
  // a loss that compares rows of one batch only cannot be wrapped; the legacy block option is still validated
  assert.throws(
    () => new CrossBatchMemory({ loss: new PmlNCALoss() }),
    (err: unknown) => err instanceof ValueError && err.code === "UNSUPPORTED",
  );
  assert.throws(() => new CrossBatchMemory({ loss: "triplet", tripletBlockElements: 0 }), ValueError);
  // identical rows per class, classes orthogonal: every margin holds (distance √2 > 1 and > 0.05)
  const sep = tf.tensor2d([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  for (const kind of ["triplet", "contrastive"] as const) {
    const v = tf.tidy(() =>
      new CrossBatchMemory({ loss: kind }).compute(sep, { labels: [0, 1, 2, 0, 1, 2] }).dataSync()[0]
    );
    assert.equal(v, 0, kind);
  }
  for (const kind of kinds) {
    const v = tf.tidy(() =>
      new CrossBatchMemory({ loss: kind }).compute(sep, { labels: [0, 1, 2, 3, 4, 5] }).dataSync()[0]
    );
    assert.ok(Number.isFinite(v), `${kind} without positives is finite`);
    if (kind === "triplet") assert.equal(v, 0);
  }
  tf.dispose([x, sep, whole.value, whole.grad, blocked.value, blocked.grad]);
});
