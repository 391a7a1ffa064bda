/**
 * Generates `edge_cases.json`: golden cases for the batch-hard losses on batches where an anchor
 * has no positive, or every label is the same (so no anchor has a negative). Values are the peers'
 * formulas evaluated here in float64 (JavaScript numbers), read from their source:
 *
 * - Quaterion `TripletLoss(mining="hard")` (quaterion/loss/triplet_loss.py): with `d` its distance
 *   matrix, `hp_i = max_j pos_ij · d_ij` (masked entries become 0), `hn_i = min_j (d_ij + max_k d_ik ·
 *   (1 - neg_ij))`, loss `mean_i relu((hp_i - hn_i) / mean_i(hn_i) + margin)` over every anchor.
 * - pytorch-metric-learning 2.8.1 `BatchHardMiner` + `TripletMarginLoss`: the miner keeps only
 *   anchors that have both a positive and a negative (farthest positive, nearest negative under
 *   `LpDistance` of normalised rows); the loss is `relu(d_ap - d_an + margin)` averaged over the
 *   non-zero terms; no triplet gives 0.
 *
 * Run: `deno run -A tests/golden/edge_cases_gen.ts > tests/golden/edge_cases.json && deno fmt tests/golden`. The output is
 * committed; `golden_test.ts` runs it with the peer file.
 *
 * @module
 */

type M = number[][];

const unit = (x: number[]) => {
  const n = Math.max(Math.hypot(...x), 1e-12);
  return x.map((v) => v / n);
};
const dot = (a: number[], b: number[]) => a.reduce((s, v, k) => s + v * b[k], 0);
/** Quaterion's cosine distance matrix `(1 - cos) / 2`. */
const quaterionCosine = (e: M): M => e.map((a) => e.map((b) => (1 - dot(unit(a), unit(b))) / 2));
/** Quaterion's euclidean distance matrix. */
const euclidean = (e: M): M => e.map((a) => e.map((b) => Math.hypot(...a.map((v, k) => v - b[k]))));
/** pml's LpDistance(normalize_embeddings=True). */
const lpNormalized = (e: M): M => euclidean(e.map(unit));

/** Quaterion's batch-hard TripletLoss, every anchor included (its formula, masked zeros and all). */
function quaterionHard(d: M, g: number[], margin: number): number {
  const b = g.length;
  const hp = g.map((_, i) => Math.max(...g.map((gj, j) => (j !== i && gj === g[i] ? 1 : 0) * d[i][j])));
  const hn = g.map((_, i) => {
    const rowMax = Math.max(...d[i]);
    return Math.min(...g.map((gj, j) => d[i][j] + rowMax * (gj !== g[i] ? 0 : 1)));
  });
  const meanHn = hn.reduce((s, v) => s + v, 0) / b;
  return hp.reduce((s, p, i) => s + Math.max((p - hn[i]) / meanHn + margin, 0), 0) / b;
}

/** likeness's batch-hard TripletLoss: anchors with a positive and a negative only; none gives 0. */
function likenessHard(d: M, g: number[], margin: number): number {
  const valid: number[] = [];
  const hp: number[] = [];
  const hn: number[] = [];
  g.forEach((gi, i) => {
    const pos = d[i].filter((_, j) => j !== i && g[j] === gi);
    const neg = d[i].filter((_, j) => g[j] !== gi);
    if (pos.length && neg.length) {
      valid.push(i);
      hp.push(Math.max(...pos));
      hn.push(Math.min(...neg));
    }
  });
  if (valid.length === 0) return 0;
  const meanHn = Math.max(hn.reduce((s, v) => s + v, 0) / valid.length, 1e-12);
  return hp.reduce((s, p, k) => s + Math.max((p - hn[k]) / meanHn + margin, 0), 0) / valid.length;
}

/** pml's BatchHardMiner triplets. */
function batchHard(d: M, g: number[]): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let a = 0; a < g.length; a++) {
    let p = -1;
    let n = -1;
    for (let j = 0; j < g.length; j++) {
      if (j === a) continue;
      if (g[j] === g[a]) {
        if (p < 0 || d[a][j] > d[a][p]) p = j;
      } else if (n < 0 || d[a][j] < d[a][n]) n = j;
    }
    if (p >= 0 && n >= 0) out.push([a, p, n]);
  }
  return out;
}

/** pml's TripletMarginLoss over given triplets with AvgNonZeroReducer. */
function tripletMargin(d: M, t: [number, number, number][], margin: number): number {
  const l = t.map(([a, p, n]) => Math.max(d[a][p] - d[a][n] + margin, 0)).filter((v) => v > 0);
  return l.length ? l.reduce((s, v) => s + v, 0) / l.length : 0;
}

// float32-exact inputs (multiples of 1/8), no ties in any row
const E: M = [
  [1, 0.25, -0.5],
  [0.875, 0.5, -0.25],
  [-0.5, 1, 0.125],
  [-0.25, 0.75, 0.625],
  [0.375, -1, 0.5],
  [0.125, -0.625, -1],
];
const BATCHES: Record<string, number[]> = {
  // row 5 has no positive; every anchor has a negative
  no_positive: [0, 1, 0, 1, 0, 2],
  // one label: no anchor has a negative
  all_same: [7, 7, 7, 7, 7, 7],
};

const NO_POSITIVE_BUG = "Quaterion keeps anchors without a positive: its masked max gives them a hardest-positive " +
  "distance of 0 (the multiplicative mask's zeros, so the anchor acts as its own positive) and they enter both the " +
  "mean over anchors and mean(hn); likeness leaves them out (there is no triplet for them), as pml's BatchHardMiner does";
const ALL_SAME_BUG = "With one label Quaterion's hardest negative is the row maximum, which equals the hardest " +
  "positive, so every anchor contributes exactly `margin` with zero gradient: a constant that reports a violation " +
  "where no triplet exists; likeness returns 0, as for any batch without a triplet";

const cases: unknown[] = [];
for (const [batch, groups] of Object.entries(BATCHES)) {
  for (const [dist, margin, matrix] of [["cosine", 0.5, quaterionCosine], ["euclidean", 1.0, euclidean]] as const) {
    const d = matrix(E);
    cases.push({
      id: `likeness/edge/quaterion/TripletLoss/${dist}/hard/${batch}`,
      lib: "quaterion",
      name: "TripletLoss",
      params: { margin, distance: dist, mining: "hard", soft: false },
      inputs: { embeddings: E, groups },
      expected: { loss: quaterionHard(d, groups, margin), grad: null },
      peer_bug: batch === "no_positive" ? NO_POSITIVE_BUG : ALL_SAME_BUG,
      likeness_expected: { loss: likenessHard(d, groups, margin) },
    });
  }
  const d = lpNormalized(E);
  const t = batchHard(d, groups);
  cases.push({
    id: `likeness/edge/pml/miner/BatchHardMiner/${batch}`,
    lib: "pml",
    name: "BatchHardMiner",
    params: { distance: "lp_normalized" },
    inputs: { embeddings: E, groups },
    expected: { triplets: t },
  });
  cases.push({
    id: `likeness/edge/pml/TripletMarginLoss/batch_hard/${batch}`,
    lib: "pml",
    name: "TripletMarginLoss",
    params: { margin: 0.2, miner: { name: "BatchHardMiner" } },
    inputs: { embeddings: E, groups },
    expected: { loss: tripletMargin(d, t, 0.2), grad: null },
  });
}

console.log(JSON.stringify(
  {
    generator: "tests/golden/edge_cases_gen.ts: the peers' formulas in float64 (see its module doc)",
    conventions: {
      likeness_expected: "for a peer_bug case, what likeness computes instead (the documented difference)",
    },
    cases,
  },
  null,
  1,
));
