import { test } from "node:test";
import assert from "node:assert/strict";
import { useTfBackend } from "@likeness/tf";
import { assertClose } from "@likeness/core/testing";
import { FastAPLoss } from "@likeness/losses";
import { cyclicLabels, hasCode, lossAndGrad, lossValue, orderInvariance, randomEmbeddings, ref } from "./_test_util.ts";

await useTfBackend("wasm");

const E = randomEmbeddings(10, 4, 71);
const L = [0, 1, 2, 0, 1, 2, 0, 1, 2, 3];
const close = (a: unknown, b: unknown, what: string) => assertClose(a, b, { rtol: 1e-4, atol: 1e-6, what });

function brute(emb: number[][], labels: number[], bins: number): number {
  const n = emb.length;
  const u = emb.map((e) => e.map((v) => v / ref.norm(e)));
  const delta = 4 / bins;
  const aps: number[] = [];
  for (let i = 0; i < n; i++) {
    const pos = new Array(bins + 1).fill(0);
    const neg = new Array(bins + 1).fill(0);
    let nPos = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const d2 = ref.euclidean(u[i], u[j]) ** 2;
      const same = labels[i] === labels[j];
      if (same) nPos++;
      for (let b = 0; b <= bins; b++) {
        const p = Math.max(0, 1 - Math.abs(d2 - (4 * b) / bins) / delta);
        (same ? pos : neg)[b] += p;
      }
    }
    if (nPos === 0) continue;
    let cp = 0, ct = 0, ap = 0;
    for (let b = 0; b <= bins; b++) {
      cp += pos[b];
      ct += pos[b] + neg[b];
      if (ct > 0) ap += (pos[b] * cp) / ct;
    }
    aps.push(ap / nPos);
  }
  return aps.length ? 1 - aps.reduce((s, v) => s + v, 0) / aps.length : 0;
}

test("FastAPLoss matches a float64 brute force", () => {
  for (const bins of [10, 4]) {
    close(lossValue(new FastAPLoss({ numBins: bins }), E, { labels: L }), brute(E, L, bins), `${bins} bins`);
  }
});

test("FastAPLoss: batch order, zero for a perfect ranking, chunked equals unchunked", () => {
  orderInvariance(new FastAPLoss(), E, L, close);
  const perfect = [[1, 0], [1, 0], [-1, 0], [-1, 0]];
  assert.equal(lossValue(new FastAPLoss(), perfect, { labels: [0, 0, 1, 1] }), 0);
  const emb = randomEmbeddings(9, 3, 8);
  const labels = cyclicLabels(9, 3);
  const a = lossAndGrad(new FastAPLoss(), emb, { labels });
  const b = lossAndGrad(new FastAPLoss({ chunkRows: 4 }), emb, { labels });
  close(b.value, a.value, "chunked value");
  close(b.grad, a.grad, "chunked grad");
});

test("FastAPLoss: no positives gives 0 (not NaN), typed errors", () => {
  const r = lossAndGrad(new FastAPLoss(), [[1, 0], [0, 1]], { labels: [0, 1] });
  assert.equal(r.value, 0);
  assert.ok(r.grad.every(Number.isFinite));
  assert.throws(() => lossValue(new FastAPLoss(), E, { labels: [0] }), hasCode("LABEL_MISMATCH"));
  assert.throws(() => new FastAPLoss({ numBins: 0 }), hasCode("INVALID_ARGUMENT"));
});
