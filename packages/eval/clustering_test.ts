import { test } from "node:test";
import assert from "node:assert/strict";
import { adjustedMutualInfo, kmeans, normalizedMutualInfo } from "@likeness/eval";
import { assertClose } from "@likeness/core/testing";

function mi(a: number[], b: number[]): number {
  const n = a.length;
  const c = new Map<string, number>();
  const ca = new Map<number, number>();
  const cb = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    c.set(`${a[i]},${b[i]}`, (c.get(`${a[i]},${b[i]}`) ?? 0) + 1);
    ca.set(a[i], (ca.get(a[i]) ?? 0) + 1);
    cb.set(b[i], (cb.get(b[i]) ?? 0) + 1);
  }
  let s = 0;
  for (const [k, v] of c) {
    const [x, y] = k.split(",").map(Number);
    s += (v / n) * Math.log((n * v) / (ca.get(x)! * cb.get(y)!));
  }
  return s;
}

function permutations(xs: number[]): number[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

test("NMI matches hand-computed values", () => {
  assertClose(normalizedMutualInfo([0, 0, 1, 1], [1, 1, 0, 0]), 1);
  assertClose(normalizedMutualInfo([0, 0, 1, 1], [0, 0, 1, 2]), 0.8, { rtol: 1e-12 });
  assertClose(normalizedMutualInfo([0, 0, 0, 0], [0, 1, 0, 1]), 0, { atol: 1e-12 });
});

test("AMI: expected MI equals the mean MI over every permutation", () => {
  const truth = [0, 0, 0, 1, 1, 2];
  const pred = [0, 1, 1, 1, 0, 0];
  const perms = permutations(pred);
  const emi = perms.reduce((s, p) => s + mi(truth, p), 0) / perms.length;
  const h = (xs: number[]) => {
    const c = new Map<number, number>();
    for (const x of xs) c.set(x, (c.get(x) ?? 0) + 1);
    let e = 0;
    for (const v of c.values()) e -= (v / xs.length) * Math.log(v / xs.length);
    return e;
  };
  const expected = (mi(truth, pred) - emi) / ((h(truth) + h(pred)) / 2 - emi);
  assertClose(adjustedMutualInfo(truth, pred), expected, { rtol: 1e-10 });
  assertClose(adjustedMutualInfo([0, 0, 1, 1, 2, 2], [5, 5, 7, 7, 1, 1]), 1, { rtol: 1e-10 });
  assert.throws(() => adjustedMutualInfo([0, 1], [0]), { code: "LABEL_MISMATCH" });
});

test("seeded k-means separates clear clusters and is deterministic", () => {
  const rows = [[0, 0], [0.1, 0], [0, 0.1], [5, 5], [5.1, 5], [5, 5.1], [-5, 5], [-5.1, 5]];
  const a = kmeans(rows, 3, { seed: 3 });
  const b = kmeans(rows, 3, { seed: 3 });
  assert.deepEqual(a.assignments, b.assignments);
  const g = Array.from(a.assignments);
  assert.equal(new Set([g[0], g[1], g[2]]).size, 1);
  assert.equal(new Set([g[3], g[4], g[5]]).size, 1);
  assert.equal(g[6], g[7]);
  assert.equal(new Set([g[0], g[3], g[6]]).size, 3);
  // two triangles (0.1² · 4/3 each) and one pair (2 * 0.05²), inputs rounded to float32
  assertClose(a.inertia, 2 * (0.01 * 4 / 3) + 0.005, { rtol: 1e-5 });
  assert.throws(() => kmeans(rows, 9), { code: "K_TOO_LARGE" });
  assert.throws(() => kmeans(rows, 0), { code: "INVALID_ARGUMENT" });
});
