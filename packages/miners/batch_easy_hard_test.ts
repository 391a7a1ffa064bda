import { test } from "node:test";
import assert from "node:assert/strict";
import { type Label, sharesAnyLabel, ValueError } from "@likeness/core";
import { BatchEasyHardMiner } from "@likeness/miners";
import { bruteDist, keys, positives, randomMatrix } from "./_testing.ts";

type S = "easy" | "hard" | "semihard" | "all";

/** Brute force on distances (smaller = closer). */
function brute(d: number[][], labels: Label[], ps: S, ns: S, match = (a: Label, b: Label) => a === b) {
  const isPos = positives(labels, match);
  const b = d.length;
  const p: number[][] = [];
  const n: number[][] = [];
  for (let a = 0; a < b; a++) {
    const P = [...Array(b).keys()].filter((j) => isPos(a, j));
    const N = [...Array(b).keys()].filter((j) => j !== a && !isPos(a, j));
    const argBy = (xs: number[], better: (x: number, y: number) => boolean) =>
      xs.reduce((best, j) => (best < 0 || better(d[a][j], d[a][best]) ? j : best), -1);
    let bp = -1;
    let bn = -1;
    if (ps === "semihard") {
      bn = argBy(N, (x, y) => x < y); // hard negative: closest
      bp = bn < 0 ? -1 : argBy(P.filter((j) => d[a][j] < d[a][bn]), (x, y) => x > y);
    } else if (ns === "semihard") {
      bp = argBy(P, ps === "easy" ? (x, y) => x < y : (x, y) => x > y);
      bn = bp < 0 ? -1 : argBy(N.filter((j) => d[a][j] > d[a][bp]), (x, y) => x < y);
    } else {
      if (ps !== "all") bp = argBy(P, ps === "easy" ? (x, y) => x < y : (x, y) => x > y);
      if (ns !== "all") bn = argBy(N, ns === "easy" ? (x, y) => x > y : (x, y) => x < y);
    }
    if (ps !== "all" && ns !== "all") {
      if (bp >= 0 && bn >= 0) {
        p.push([a, bp]);
        n.push([a, bn]);
      }
    } else {
      if (ps === "all") P.forEach((j) => p.push([a, j]));
      else if (bp >= 0) p.push([a, bp]);
      if (ns === "all") N.forEach((j) => n.push([a, j]));
      else if (bn >= 0) n.push([a, bn]);
    }
  }
  return { p, n };
}

test("BatchEasyHardMiner matches a brute-force loop for each strategy pair", async () => {
  const emb = randomMatrix(15, 4, 13);
  const labels = Array.from({ length: 15 }, (_, i) => i % 4);
  const d = bruteDist(emb, "lp");
  const combos: [S, S][] = [["easy", "semihard"], ["hard", "hard"], ["semihard", "hard"], ["easy", "easy"], [
    "all",
    "hard",
  ], [
    "hard",
    "all",
  ], ["all", "all"]];
  for (const [ps, ns] of combos) {
    const got = await new BatchEasyHardMiner({ posStrategy: ps, negStrategy: ns }).mine(emb, labels);
    const want = brute(d, labels, ps, ns);
    assert.ok(want.p.length > 0 && want.n.length > 0, `${ps}/${ns} non-empty`);
    assert.deepEqual(keys(got.positivePairs), keys(want.p), `${ps}/${ns} positives`);
    assert.deepEqual(keys(got.negativePairs), keys(want.n), `${ps}/${ns} negatives`);
  }
});

test("BatchEasyHardMiner with a multi-label matcher and a positive range", async () => {
  const emb = randomMatrix(10, 3, 6);
  const labels: Label[] = [[0, 1], [1], [0], [2], [2, 1], [3], [3, 0], [1], [2], [3]];
  const got = await new BatchEasyHardMiner().mine(emb, labels, { match: sharesAnyLabel });
  const want = brute(bruteDist(emb, "lp"), labels, "easy", "semihard", sharesAnyLabel);
  assert.deepEqual(keys(got.positivePairs), keys(want.p));
  assert.deepEqual(keys(got.negativePairs), keys(want.n));
  const none = await new BatchEasyHardMiner({ allowedPosRange: [5, 6] }).mine(emb, labels, { match: sharesAnyLabel });
  assert.deepEqual(none.positivePairs, []);
});

test("BatchEasyHardMiner rejects invalid strategy combinations", () => {
  const invalid = (e: unknown) => e instanceof ValueError && e.code === "INVALID_ARGUMENT";
  assert.throws(() => new BatchEasyHardMiner({ posStrategy: "semihard", negStrategy: "semihard" }), invalid);
  assert.throws(() => new BatchEasyHardMiner({ posStrategy: "all", negStrategy: "semihard" }), invalid);
  assert.throws(() => new BatchEasyHardMiner({ allowedNegRange: [1, 0] }), invalid);
  assert.throws(
    () => new BatchEasyHardMiner({ posStrategy: "hardest" as never }),
    (e: unknown) => e instanceof ValueError && e.code === "UNKNOWN_NAME",
  );
});
