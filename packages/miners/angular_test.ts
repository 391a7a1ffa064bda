import { test } from "node:test";
import assert from "node:assert/strict";
import { type Label, sharesAnyLabel, ValueError } from "@likeness/core";
import { AngularMiner } from "@likeness/miners";
import { keys, positives, randomMatrix } from "./_testing.ts";

function brute(
  emb: ReturnType<typeof randomMatrix>,
  labels: Label[],
  degrees: number,
  match = (a: Label, b: Label) => a === b,
) {
  const row = (i: number) => Array.from(emb.data.subarray(i * emb.cols, (i + 1) * emb.cols));
  const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + (x + 1e-6) ** 2, 0));
  const isPos = positives(labels, match);
  const out: number[][] = [];
  for (let a = 0; a < emb.rows; a++) {
    for (let p = 0; p < emb.rows; p++) {
      if (!isPos(a, p)) continue;
      const xa = row(a);
      const xp = row(p);
      const c = xa.map((v, k) => (v + xp[k]) / 2);
      for (let n = 0; n < emb.rows; n++) {
        if (n === a || match(labels[a], labels[n])) continue;
        const ap = norm(xa.map((v, k) => v - xp[k]));
        const nc = norm(row(n).map((v, k) => v - c[k]));
        if (Math.atan(ap / (2 * nc)) > (degrees * Math.PI) / 180) out.push([a, p, n]);
      }
    }
  }
  return out;
}

test("AngularMiner matches a brute-force loop", async () => {
  const emb = randomMatrix(12, 5, 17);
  const labels = Array.from({ length: 12 }, (_, i) => i % 3);
  for (const angle of [20, 35]) {
    const got = await new AngularMiner({ angle }).mine(emb, labels);
    const want = brute(emb, labels, angle);
    assert.ok(want.length > 0 && want.length < 12 * 3 * 8, `angle ${angle} selects some but not all`);
    assert.deepEqual(keys(got.triplets), keys(want));
  }
});

test("AngularMiner with a multi-label matcher; bad angle is a typed error", async () => {
  const emb = randomMatrix(8, 3, 3);
  const labels: Label[] = [[0, 1], [1], [0], [2], [2, 1], [3], [3, 0], [1]];
  const got = await new AngularMiner({ angle: 25 }).mine(emb, labels, { match: sharesAnyLabel });
  assert.deepEqual(keys(got.triplets), keys(brute(emb, labels, 25, sharesAnyLabel)));
  assert.throws(
    () => new AngularMiner({ angle: 120 }),
    (e: unknown) => e instanceof ValueError && e.code === "INVALID_ARGUMENT",
  );
});
