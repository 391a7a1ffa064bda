import { test } from "node:test";
import assert from "node:assert/strict";
import { equalLabels, type Label, type LabelMatcher, sharesAnyLabel, ValueError } from "@likeness/core";
import { BatchHardMiner, TripletMarginMiner } from "@likeness/miners";
import { bruteDist, keys, positives, randomMatrix } from "./_testing.ts";

function brute(
  emb: ReturnType<typeof randomMatrix>,
  labels: Label[],
  margin: number,
  type: string,
  match: LabelMatcher,
) {
  const d = bruteDist(emb, "lp");
  const pos = positives(labels, match);
  const out: number[][] = [];
  for (let a = 0; a < emb.rows; a++) {
    for (let p = 0; p < emb.rows; p++) {
      if (!pos(a, p)) continue;
      for (let n = 0; n < emb.rows; n++) {
        if (n === a || match(labels[a], labels[n])) continue;
        const m = d[a][n] - d[a][p];
        const keep = type === "easy"
          ? m > margin
          : m <= margin && (type === "hard" ? m <= 0 : type === "semihard" ? m > 0 : true);
        if (keep) out.push([a, p, n]);
      }
    }
  }
  return out;
}

test("TripletMarginMiner matches a brute-force loop for every type", async () => {
  const emb = randomMatrix(14, 5, 3);
  const labels = [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1];
  let total = 0;
  for (const type of ["all", "hard", "semihard", "easy"] as const) {
    const got = await new TripletMarginMiner({ margin: 0.2, type }).mine(emb, labels);
    const want = brute(emb, labels, 0.2, type, equalLabels);
    assert.deepEqual(keys(got.triplets), keys(want), type);
    assert.ok(want.length > 0, `${type} has triplets`);
    total += want.length;
  }
  // all + easy partition every triplet: 14 anchors, positives per anchor 2 or 3
  const allTriplets = brute(emb, labels, Infinity, "all", equalLabels).length;
  const easy = brute(emb, labels, 0.2, "easy", equalLabels).length;
  const all = brute(emb, labels, 0.2, "all", equalLabels).length;
  assert.equal(all + easy, allTriplets);
  assert.ok(total > allTriplets);
});

test("TripletMarginMiner with a multi-label matcher", async () => {
  const emb = randomMatrix(10, 4, 8);
  const labels: Label[] = [[0, 1], [1], [2], [0], [2, 3], [3], [1, 2], [0], [3], [4]];
  const got = await new TripletMarginMiner({ margin: 0.3, type: "all" }).mine(emb, labels, { match: sharesAnyLabel });
  const want = brute(emb, labels, 0.3, "all", sharesAnyLabel);
  assert.ok(want.length > 0);
  assert.deepEqual(keys(got.triplets), keys(want));
  // an item with a label nobody shares has no positives, so it never anchors a triplet
  assert.ok(got.triplets!.every(([a]) => a !== 9));
});

test("TripletMarginMiner rejects bad input with typed errors", async () => {
  assert.throws(
    () => new TripletMarginMiner({ type: "medium" as never }),
    (e: unknown) => e instanceof ValueError && e.code === "UNKNOWN_NAME",
  );
  assert.throws(
    () => new TripletMarginMiner({ margin: NaN }),
    (e: unknown) => e instanceof ValueError && e.code === "INVALID_ARGUMENT",
  );
  const miner = new TripletMarginMiner();
  await assert.rejects(
    miner.mine(randomMatrix(4, 2, 1), [0, 1, 0]),
    (e: unknown) => (e as { code?: string }).code === "LABEL_MISMATCH",
  );
  const bad = randomMatrix(3, 2, 1);
  bad.data[2] = Infinity;
  await assert.rejects(miner.mine(bad, [0, 1, 0]), (e: unknown) => e instanceof ValueError && e.code === "NON_FINITE");
});

test("TripletMarginMiner and BatchHardMiner are equivariant to batch order", async () => {
  const emb = randomMatrix(12, 4, 31);
  const labels = [0, 1, 2, 0, 1, 2, 0, 1, 2, 3, 3, 0];
  const perm = [5, 11, 0, 3, 8, 1, 10, 2, 7, 4, 9, 6]; // new row r holds old row perm[r]
  const data = new Float32Array(emb.data.length);
  perm.forEach((old, r) => data.set(emb.data.subarray(old * 4, old * 4 + 4), r * 4));
  const permuted = { data, rows: 12, cols: 4 };
  const permLabels = perm.map((old) => labels[old]);
  const back = (t: readonly (readonly number[])[] | undefined) => (t ?? []).map((x) => x.map((r) => perm[r]));
  for (const miner of [new TripletMarginMiner({ type: "semihard", margin: 0.3 }), new BatchHardMiner()]) {
    const a = await miner.mine(emb, labels);
    const b = await miner.mine(permuted, permLabels);
    assert.ok((a.triplets?.length ?? 0) > 0);
    assert.deepEqual(keys(back(b.triplets)), keys(a.triplets), miner.name);
  }
});

test("TripletMarginMiner accepts Quaterion's semi_hard as an alias of semihard", () => {
  assert.equal(new TripletMarginMiner({ type: "semi_hard" as "semihard" }).type, "semihard");
});
