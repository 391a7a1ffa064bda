import { test } from "node:test";
import assert from "node:assert/strict";
import { useTfBackend } from "@likeness/tf";
import { assertClose } from "@likeness/core/testing";
import { distance, MultipleNegativesRankingLoss } from "@likeness/losses";
import { crossEntropy, hasCode, lossAndGrad, lossValue, permutation, randomEmbeddings, ref } from "./_test_util.ts";

await useTfBackend("wasm");

const E = randomEmbeddings(10, 4, 41);
const PAIRS: [number, number][] = [[0, 5], [1, 6], [2, 7], [3, 8], [4, 9]];
const close = (a: unknown, b: unknown, what: string) => assertClose(a, b, { rtol: 1e-4, atol: 1e-6, what });

function brute(emb: number[][], pairs: [number, number][], scale: number, sym: boolean, sim: typeof ref.cos): number {
  const p = pairs.length;
  const S = pairs.map(([a]) => pairs.map(([, b]) => scale * sim(emb[a], emb[b])));
  let fwd = 0;
  let bwd = 0;
  for (let i = 0; i < p; i++) {
    fwd += crossEntropy(S[i], i);
    bwd += crossEntropy(S.map((r) => r[i]), i);
  }
  return sym ? (fwd / p + bwd / p) / 2 : fwd / p;
}

test("MultipleNegativesRankingLoss matches a float64 brute force (Quaterion and plain cosine)", () => {
  const half = (a: number[], b: number[]) => (1 + ref.cos(a, b)) / 2;
  for (const symmetric of [false, true]) {
    close(
      lossValue(new MultipleNegativesRankingLoss({ symmetric }), E, { pairs: PAIRS }),
      brute(E, PAIRS, 20, symmetric, half),
      "half",
    );
    const plain = new MultipleNegativesRankingLoss({ symmetric, distance: distance("cosine"), scale: 10 });
    close(lossValue(plain, E, { pairs: PAIRS }), brute(E, PAIRS, 10, symmetric, ref.cos), "plain");
  }
});

test("MultipleNegativesRankingLoss: pair order, near zero when positives dominate, chunked equals unchunked", () => {
  const p = permutation(PAIRS.length, 3);
  for (const symmetric of [false, true]) {
    const loss = new MultipleNegativesRankingLoss({ symmetric });
    close(lossValue(loss, E, { pairs: p.map((i) => PAIRS[i]) }), lossValue(loss, E, { pairs: PAIRS }), "pair order");
    const a = lossAndGrad(loss, E, { pairs: PAIRS });
    const b = lossAndGrad(new MultipleNegativesRankingLoss({ symmetric, chunkRows: 2 }), E, { pairs: PAIRS });
    close(b.value, a.value, "chunked value");
    close(b.grad, a.grad, "chunked grad");
  }
  const emb = [[1, 0], [0, 1], [1, 0], [0, 1]];
  const v = lossValue(new MultipleNegativesRankingLoss({ scale: 100, distance: "cosine" }), emb, {
    pairs: [[0, 2], [1, 3]],
  });
  assert.ok(v >= 0 && v < 1e-6, `got ${v}`);
});

test("MultipleNegativesRankingLoss rejects scored pairs and bad indices", () => {
  const loss = new MultipleNegativesRankingLoss();
  assert.throws(() => lossValue(loss, E, { pairs: PAIRS, scores: [1, 1, 0, 1, 1] }), hasCode("INVALID_ARGUMENT"));
  assert.throws(() => lossValue(loss, E, { pairs: [[0, 10]] }), hasCode("OUT_OF_RANGE"));
  assert.throws(() => lossValue(loss, E, {}), hasCode("INVALID_ARGUMENT"));
  assert.equal(lossValue(loss, E, { pairs: PAIRS, scores: [1, 1, 1, 1, 1] }), lossValue(loss, E, { pairs: PAIRS }));
});
