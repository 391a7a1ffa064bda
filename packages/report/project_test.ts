import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng } from "@likeness/core";
import { assertClose } from "@likeness/core/testing";
import { project2d } from "@likeness/report";

/** Points with standard deviations 10, 3, 0.3, 0.3 along a rotated orthonormal basis. */
function synthetic(n: number, seed: number): { x: number[][]; axes: number[][] } {
  const rng = createRng(seed);
  const s = Math.SQRT1_2;
  const axes = [[s, s, 0, 0], [s, -s, 0, 0], [0, 0, s, s], [0, 0, s, -s]];
  const sd = [10, 3, 0.3, 0.3];
  const x: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row = [5, -2, 1, 0]; // offset: PCA must centre
    for (let k = 0; k < 4; k++) {
      const z = rng.normal() * sd[k];
      for (let j = 0; j < 4; j++) row[j] += z * axes[k][j];
    }
    x.push(row);
  }
  return { x, axes };
}

test("project2d pca recovers the two dominant axes of a synthetic set", () => {
  const { x, axes } = synthetic(400, 1);
  const p = project2d(x, { method: "pca", seed: 5 });
  assert.equal(p.method, "pca");
  assert.equal(p.points.length, 400);
  // Projections onto the true axes (after centring) match the PCA coordinates up to sign.
  const mean = [0, 0, 0, 0];
  for (const r of x) for (let j = 0; j < 4; j++) mean[j] += r[j] / x.length;
  for (let c = 0; c < 2; c++) {
    const truth = x.map((r) => r.reduce((s, v, j) => s + (v - mean[j]) * axes[c][j], 0));
    const got = p.points.map((q) => q[c]);
    const dot = truth.reduce((s, v, i) => s + v * got[i], 0);
    const nt = Math.hypot(...truth);
    const ng = Math.hypot(...got);
    assert.ok(Math.abs(dot) / (nt * ng) > 0.995, `axis ${c}: |cos| = ${Math.abs(dot) / (nt * ng)}`);
  }
  const [a, b] = p.explainedVariance!;
  // Expected shares: 100 / 109.18 and 9 / 109.18, up to sampling noise.
  assert.ok(Math.abs(a - 100 / 109.18) < 0.03, `first share ${a}`);
  assert.ok(Math.abs(b - 9 / 109.18) < 0.02, `second share ${b}`);
  // Centred: the mean of each coordinate is 0.
  assertClose(p.points.reduce((s, q) => s + q[0], 0) / 400, 0, { atol: 1e-4 });
});

test("project2d pca is deterministic and the same for different seeds up to rounding", () => {
  const { x } = synthetic(120, 2);
  const a = project2d(x, { seed: 1 });
  const b = project2d(x, { seed: 1 });
  assert.deepEqual(a, b);
  const c = project2d(x, { seed: 99 });
  assertClose(c.points.flat(), a.points.flat(), { rtol: 1e-6, atol: 1e-6 });
});

test("project2d pca handles one input dimension and constant data", () => {
  const p = project2d([[1], [2], [4]]);
  assertClose(p.points.map((q) => q[0]), [-4 / 3, -1 / 3, 5 / 3], { atol: 1e-9 });
  assert.deepEqual(p.points.map((q) => q[1]), [0, 0, 0]);
  const flat = project2d([[3, 3], [3, 3]]);
  assert.deepEqual(flat.points, [[0, 0], [0, 0]]);
  assert.deepEqual(flat.explainedVariance, [0, 0]);
});

test("project2d tsne separates clusters and is deterministic for a seed", () => {
  const rng = createRng(4);
  const x: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < 60; i++) {
    const c = i % 3;
    labels.push(c);
    x.push([c * 20 + rng.normal(), rng.normal(), -c * 10 + rng.normal()]);
  }
  const a = project2d(x, { method: "tsne", seed: 3, iterations: 300 });
  const b = project2d(x, { method: "tsne", seed: 3, iterations: 300 });
  assert.deepEqual(a, b);
  assert.equal(a.method, "tsne");
  // Every point's nearest 2-D neighbour has its class.
  let correct = 0;
  for (let i = 0; i < 60; i++) {
    let best = -1;
    let bd = Infinity;
    for (let k = 0; k < 60; k++) {
      if (k === i) continue;
      const d = Math.hypot(a.points[i][0] - a.points[k][0], a.points[i][1] - a.points[k][1]);
      if (d < bd) {
        bd = d;
        best = k;
      }
    }
    if (labels[best] === labels[i]) correct++;
  }
  assert.equal(correct, 60);
});

test("project2d rejects bad input with typed errors", () => {
  assert.throws(() => project2d([]), { code: "EMPTY_INPUT" });
  assert.throws(() => project2d([[1, 2], [3]]), { code: "SHAPE_MISMATCH" });
  assert.throws(() => project2d([[1, NaN]]), { code: "NON_FINITE" });
  assert.throws(() => project2d([[1, 2]], { method: "umap" as "pca" }), { code: "UNKNOWN_NAME" });
  assert.throws(() => project2d([[1, 2]], { iterations: 0 }), { code: "INVALID_ARGUMENT" });
  assert.throws(
    () => project2d([[1, 2], [2, 3], [3, 4], [4, 5]], { method: "tsne", maxPoints: 3 }),
    { code: "TOO_LARGE", message: /subsample/ },
  );
  assert.throws(() => project2d([[1, 2], [2, 3], [3, 4]], { method: "tsne", perplexity: -1 }), {
    code: "INVALID_ARGUMENT",
  });
});
