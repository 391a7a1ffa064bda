import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createRng, type Label, type Matrix, type Rng, sameLabelMatrix, sharesAnyLabel } from "@likeness/core";
import type { TripletType } from "@likeness/kernels/types";
import { createMiningKernels, hasWasmSimd, type MiningVariant } from "@likeness/kernels";
import { batchHardRef, multiSimilarityRef, pairMarginRef, tripletMarginRef } from "@likeness/kernels/reference";

const SIZES = [1, 3, 4, 5, 15, 16, 17, 63, 64, 65, 256];
const VARIANTS: MiningVariant[] = hasWasmSimd() ? ["scalar", "simd"] : ["scalar"];
const TYPES: TripletType[] = ["all", "hard", "semihard", "easy"];

interface Case {
  name: string;
  dist: Matrix;
  same: Uint8Array;
  smallerIsCloser: boolean;
}

/** Random B×B matrix (quantised to eighths when `ties`) and a mask from labels or multi-labels. */
function makeCase(rng: Rng, b: number, ties: boolean, multi: boolean, smallerIsCloser: boolean): Case {
  const data = new Float32Array(b * b);
  for (let i = 0; i < data.length; i++) {
    data[i] = ties ? rng.int(9) / 8 - (smallerIsCloser ? 0 : 0.5) : rng.next() * 2 - (smallerIsCloser ? 0 : 1);
  }
  const classes = Math.max(1, Math.ceil(b / 4));
  const labels: Label[] = [];
  for (let i = 0; i < b; i++) labels.push(multi ? [rng.int(classes), rng.int(classes)] : rng.int(classes));
  const same = sameLabelMatrix(labels, multi ? sharesAnyLabel : undefined);
  return {
    name: `B=${b} ties=${ties} multi=${multi} smallerIsCloser=${smallerIsCloser}`,
    dist: { data, rows: b, cols: b },
    same,
    smallerIsCloser,
  };
}

function* cases(seed: number, sizes = SIZES): Generator<Case> {
  const rng = createRng(seed);
  for (const b of sizes) {
    for (
      const [ties, multi, closer] of [[false, false, true], [true, false, true], [true, true, false], [
        false,
        true,
        false,
      ]]
    ) {
      yield makeCase(rng, b, ties, multi, closer);
    }
  }
}

for (const variant of VARIANTS) {
  test(`mining ${variant}: batchHard matches the reference at every size, with ties and multi-labels`, async () => {
    const k = createMiningKernels({ variant });
    for (const c of cases(1)) {
      const got = await k.batchHard(c.dist, c.same, { smallerIsCloser: c.smallerIsCloser });
      const want = batchHardRef(c.dist, c.same, { smallerIsCloser: c.smallerIsCloser });
      assert.deepStrictEqual(got, want, c.name);
    }
    k.dispose();
  });

  test(`mining ${variant}: tripletMargin matches the reference for every type`, async () => {
    const k = createMiningKernels({ variant });
    for (const c of cases(2, SIZES.filter((b) => b <= 65))) {
      for (const type of TYPES) {
        for (const margin of c.dist.rows <= 17 ? [0.25, 0, -0.125] : [0.25, 0]) {
          const o = { margin, type, smallerIsCloser: c.smallerIsCloser };
          const got = await k.tripletMargin(c.dist, c.same, o);
          const want = tripletMarginRef(c.dist, c.same, o);
          assert.equal(got.count, want.count, `${c.name} ${type} ${margin}`);
          assert.deepStrictEqual(got.indices, want.indices, `${c.name} ${type} ${margin}`);
        }
      }
    }
    // the large size, once per type (O(B^3) in the reference)
    const big = makeCase(createRng(3), 256, true, false, true);
    for (const type of TYPES) {
      const o = { margin: 0.25, type };
      assert.deepStrictEqual(await k.tripletMargin(big.dist, big.same, o), tripletMarginRef(big.dist, big.same, o));
    }
    k.dispose();
  });

  test(`mining ${variant}: pairMargin and multiSimilarity match the reference`, async () => {
    const k = createMiningKernels({ variant });
    for (const c of cases(4)) {
      const closer = c.smallerIsCloser;
      const pm = { posMargin: closer ? 0.5 : 0, negMargin: closer ? 1 : 0.25, smallerIsCloser: closer };
      assert.deepStrictEqual(await k.pairMargin(c.dist, c.same, pm), pairMarginRef(c.dist, c.same, pm), c.name);
      for (const epsilon of [0.1, 0.125, 0]) {
        const ms = { epsilon, smallerIsCloser: closer };
        assert.deepStrictEqual(
          await k.multiSimilarity(c.dist, c.same, ms),
          multiSimilarityRef(c.dist, c.same, ms),
          `${c.name} eps=${epsilon}`,
        );
      }
    }
    k.dispose();
  });
}

test("mining: pair kernels take a second, exact pass for outputs beyond the first-pass capacity", async () => {
  const b = 300; // 89,700 ordered pairs > 65,536
  const dist: Matrix = { data: new Float32Array(b * b).fill(0.5), rows: b, cols: b };
  const same = new Uint8Array(b * b).fill(1);
  for (const variant of VARIANTS) {
    const k = createMiningKernels({ variant });
    const got = await k.pairMargin(dist, same, { posMargin: 0, negMargin: 0 });
    assert.equal(got.positive.length, 2 * b * (b - 1));
    assert.deepStrictEqual(got, pairMarginRef(dist, same, { posMargin: 0, negMargin: 0 }));
    k.dispose();
  }
});

test("mining: margins compare in float64 exactly, also at the float32 neighbours of a margin", async () => {
  // values around 0.1 (not a float32): fround(0.1) > 0.1, its predecessor < 0.1
  const f = Math.fround(0.1);
  const buf = new Float32Array([f]);
  const bits = new Uint32Array(buf.buffer);
  bits[0] -= 1;
  const below = buf[0];
  const vals = [below, f, -below, -f, 0, -0, 1e-46, -1e-46];
  const b = vals.length + 1;
  const data = new Float32Array(b * b);
  for (let i = 0; i < b * b; i++) data[i] = vals[i % vals.length];
  const dist: Matrix = { data, rows: b, cols: b };
  const same = sameLabelMatrix(Array.from({ length: b }, (_, i) => i % 2));
  for (const variant of VARIANTS) {
    const k = createMiningKernels({ variant });
    for (const smallerIsCloser of [true, false]) {
      for (const m of [0.1, -0.1, 1e-50, -1e-50, 0, 1e300, -1e300]) {
        const o = { posMargin: m, negMargin: m, smallerIsCloser };
        const want = pairMarginRef(dist, same, o);
        assert.deepStrictEqual(await k.pairMargin(dist, same, o), want, `${variant} ${smallerIsCloser} ${m}`);
      }
      for (const epsilon of [0.1, 1e-50, 0]) {
        const o = { epsilon, smallerIsCloser };
        assert.deepStrictEqual(await k.multiSimilarity(dist, same, o), multiSimilarityRef(dist, same, o));
      }
      for (const type of TYPES) {
        const o = { margin: 0.1, type, smallerIsCloser };
        assert.deepStrictEqual(await k.tripletMargin(dist, same, o), tripletMarginRef(dist, same, o));
      }
    }
    k.dispose();
  }
  // the rule really is evaluated in float64: fround(0.1) is above the margin 0.1, its predecessor below
  const p = pairMarginRef(
    { data: new Float32Array([0, f, below, 0]), rows: 2, cols: 2 },
    new Uint8Array([1, 1, 1, 1]),
    {
      posMargin: 0.1,
      negMargin: 0,
    },
  );
  assert.deepStrictEqual(p.positive, new Int32Array([0, 1]));
});

test("mining: batchHard handles hand-made cases (no positives, no negatives, diagonal ignored)", async () => {
  const k = createMiningKernels();
  const dist: Matrix = { data: new Float32Array([0, 1, 2, 1, 0, 3, 2, 3, 0]), rows: 3, cols: 3 };
  const r = await k.batchHard(dist, sameLabelMatrix([0, 0, 1]));
  assert.deepStrictEqual(r.positive, new Int32Array([1, 0, -1]));
  assert.deepStrictEqual(r.negative, new Int32Array([2, 2, 0]));
  assert.deepStrictEqual(r.positiveDistance, new Float32Array([1, 1, NaN]));
  assert.deepStrictEqual(r.validPositive, new Uint8Array([1, 1, 0]));
  assert.deepStrictEqual(r.validNegative, new Uint8Array([1, 1, 1]));
  // similarities: hardest positive is the least similar, hardest negative the most similar
  const sim = await k.batchHard(dist, sameLabelMatrix([0, 0, 0]), { smallerIsCloser: false });
  assert.deepStrictEqual(sim.positive, new Int32Array([1, 0, 0]));
  assert.deepStrictEqual(sim.validNegative, new Uint8Array([0, 0, 0]));
  // a zero diagonal in `same` must not make an anchor its own negative
  const single = await k.batchHard({ data: new Float32Array([0]), rows: 1, cols: 1 }, new Uint8Array([0]));
  assert.deepStrictEqual([single.positive[0], single.negative[0]], [-1, -1]);
  k.dispose();
});

test("mining: bad input throws typed errors with stable codes", async () => {
  const k = createMiningKernels();
  const same = new Uint8Array(4);
  const ok: Matrix = { data: new Float32Array(4), rows: 2, cols: 2 };
  const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;
  await assert.rejects(k.batchHard({ data: new Float32Array(6), rows: 2, cols: 3 }, same), code("SHAPE_MISMATCH"));
  await assert.rejects(
    k.batchHard({ data: new Float32Array(0), rows: 0, cols: 0 }, new Uint8Array()),
    code("EMPTY_INPUT"),
  );
  await assert.rejects(k.batchHard(ok, new Uint8Array(3)), code("LABEL_MISMATCH"));
  await assert.rejects(k.batchHard({ data: new Float32Array(3), rows: 2, cols: 2 }, same), code("SHAPE_MISMATCH"));
  for (const variant of VARIANTS) {
    const kv = createMiningKernels({ variant });
    // vector part, scalar tail (B mod 8) and the diagonal, for every op
    for (const [bad, r, c] of [[NaN, 7, 93], [Infinity, 5, 98], [-Infinity, 3, 3]]) {
      const data = new Float32Array(100 * 100);
      data[r * 100 + c] = bad;
      const dist = { data, rows: 100, cols: 100 };
      const mask = new Uint8Array(10000);
      const nonFinite = (e: unknown) =>
        code("NON_FINITE")(e) && new RegExp(`dist\\[${r}, ${c}\\] is ${bad}`).test((e as Error).message);
      await assert.rejects(kv.batchHard(dist, mask), nonFinite);
      await assert.rejects(kv.tripletMargin(dist, mask, { margin: 1, type: "all" }), nonFinite);
      await assert.rejects(kv.pairMargin(dist, mask, { posMargin: 1, negMargin: 1 }), nonFinite);
      await assert.rejects(kv.multiSimilarity(dist, mask, { epsilon: 1 }), nonFinite);
    }
    kv.dispose();
  }
  await assert.rejects(k.tripletMargin(ok, same, { margin: 0.1, type: "medium" as TripletType }), code("UNKNOWN_NAME"));
  await assert.rejects(k.tripletMargin(ok, same, { margin: NaN, type: "all" }), code("INVALID_ARGUMENT"));
  await assert.rejects(k.pairMargin(ok, same, { posMargin: 0, negMargin: Infinity }), code("INVALID_ARGUMENT"));
  await assert.rejects(
    k.multiSimilarity(ok, same, { epsilon: 0.1, smallerIsCloser: 1 as unknown as boolean }),
    code("INVALID_ARGUMENT"),
  );
  await assert.rejects(
    k.multiSimilarity(ok, same, undefined as unknown as { epsilon: number }),
    code("INVALID_ARGUMENT"),
  );
  assert.throws(() => createMiningKernels({ variant: "avx" as MiningVariant }), code("UNKNOWN_NAME"));
  assert.throws(() => createMiningKernels({ maxTriplets: -1 }), code("INVALID_ARGUMENT"));
  k.dispose();
  await assert.rejects(k.batchHard(ok, same), code("INVALID_ARGUMENT"));
});

test("mining: tripletMargin refuses outputs beyond maxTriplets", async () => {
  const k = createMiningKernels({ maxTriplets: 10 });
  const c = makeCase(createRng(5), 16, false, false, true);
  const all = tripletMarginRef(c.dist, c.same, { margin: 10, type: "all" });
  assert.ok(all.count > 10);
  await assert.rejects(
    k.tripletMargin(c.dist, c.same, { margin: 10, type: "all" }),
    (e: unknown) => (e as { code?: string }).code === "TOO_LARGE" && e instanceof RangeError,
  );
  const none = await k.tripletMargin(c.dist, c.same, { margin: -10, type: "all" });
  assert.deepStrictEqual(none, { indices: new Int32Array(0), count: 0 });
  k.dispose();
});

// ---- peer golden values (pytorch-metric-learning 2.8.1): references and kernels against them ----

const GOLDEN = new URL("../../../shared/golden/peer-references.json", import.meta.url);

interface GoldenCase {
  id: string;
  name: string;
  params: Record<string, unknown>;
  inputs: { embeddings: number[][]; groups: number[] };
  expected: Record<string, number[][]>;
}

/** pml's default distance (L2 between L2-normalised rows) and cosine similarity, in float64. */
function goldenMatrices(emb: number[][]): { l2: Matrix; cos: Matrix } {
  const b = emb.length;
  const n = emb.map((r) => {
    const s = Math.sqrt(r.reduce((a, v) => a + v * v, 0));
    return r.map((v) => v / s);
  });
  const l2 = new Float32Array(b * b);
  const cos = new Float32Array(b * b);
  for (let i = 0; i < b; i++) {
    for (let j = 0; j < b; j++) {
      let d = 0;
      let c = 0;
      for (let t = 0; t < n[i].length; t++) {
        d += (n[i][t] - n[j][t]) ** 2;
        c += n[i][t] * n[j][t];
      }
      l2[i * b + j] = Math.sqrt(d);
      cos[i * b + j] = c;
    }
  }
  return { l2: { data: l2, rows: b, cols: b }, cos: { data: cos, rows: b, cols: b } };
}

/** Tuples of a flat array as a sorted list of strings (miners' outputs compare as sets). */
function tupleSet(flat: ArrayLike<number>, width: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < flat.length; i += width) out.push(Array.from(flat).slice(i, i + width).join(","));
  return out.sort();
}

const goldenSet = (tuples: number[][]): string[] => tuples.map((t) => t.join(",")).sort();

test("mining: references and kernels reproduce pytorch-metric-learning's miners (golden cases)", async (t) => {
  if (!existsSync(GOLDEN)) {
    t.skip("skipped: ../shared/golden/peer-references.json is not present in this checkout");
    return;
  }
  const cases = (JSON.parse(readFileSync(GOLDEN, "utf8")).cases as GoldenCase[]).filter((c) =>
    ["TripletMarginMiner", "PairMarginMiner", "MultiSimilarityMiner", "BatchHardMiner"].includes(c.name)
  );
  assert.ok(cases.length >= 7, "expected the pml miner cases");
  const kernels = VARIANTS.map((variant) => createMiningKernels({ variant }));
  for (const c of cases) {
    const { l2, cos } = goldenMatrices(c.inputs.embeddings);
    const same = sameLabelMatrix(c.inputs.groups);
    const p = c.params;
    if (c.name === "TripletMarginMiner") {
      const o = { margin: p.margin as number, type: p.type_of_triplets as TripletType };
      assert.deepStrictEqual(tupleSet(tripletMarginRef(l2, same, o).indices, 3), goldenSet(c.expected.triplets), c.id);
      for (const k of kernels) {
        assert.deepStrictEqual(
          tupleSet((await k.tripletMargin(l2, same, o)).indices, 3),
          goldenSet(c.expected.triplets),
        );
      }
    } else if (c.name === "BatchHardMiner") {
      const results = [batchHardRef(l2, same), ...await Promise.all(kernels.map((k) => k.batchHard(l2, same)))];
      for (const r of results) {
        const triplets: number[] = [];
        for (let i = 0; i < l2.rows; i++) {
          if (r.validPositive[i] && r.validNegative[i]) triplets.push(i, r.positive[i], r.negative[i]);
        }
        assert.deepStrictEqual(tupleSet(triplets, 3), goldenSet(c.expected.triplets), c.id);
      }
    } else {
      // PairMarginMiner runs on pml's default L2 distance; MultiSimilarityMiner on its default cosine similarity
      const results = c.name === "PairMarginMiner"
        ? [
          pairMarginRef(l2, same, { posMargin: p.pos_margin as number, negMargin: p.neg_margin as number }),
          ...await Promise.all(
            kernels.map((k) =>
              k.pairMargin(l2, same, { posMargin: p.pos_margin as number, negMargin: p.neg_margin as number })
            ),
          ),
        ]
        : [
          multiSimilarityRef(cos, same, { epsilon: p.epsilon as number, smallerIsCloser: false }),
          ...await Promise.all(
            kernels.map((k) => k.multiSimilarity(cos, same, { epsilon: p.epsilon as number, smallerIsCloser: false })),
          ),
        ];
      for (const r of results) {
        assert.deepStrictEqual(tupleSet(r.positive, 2), goldenSet(c.expected.positive_pairs), `${c.id} positive`);
        assert.deepStrictEqual(tupleSet(r.negative, 2), goldenSet(c.expected.negative_pairs), `${c.id} negative`);
      }
    }
  }
  for (const k of kernels) k.dispose();
});
