import { test } from "node:test";
import assert from "node:assert/strict";
import { useTfBackend } from "@likeness/tf";
import { assertClose } from "@likeness/core/testing";
import { CircleLoss } from "@likeness/losses";
import { hasCode, lossAndGrad, lossValue, orderInvariance, randomEmbeddings, ref } from "./_test_util.ts";

await useTfBackend("wasm");

const E = randomEmbeddings(9, 4, 61);
const L = [0, 1, 2, 0, 1, 2, 0, 1, 3];
const close = (a: unknown, b: unknown, what: string) => assertClose(a, b, { rtol: 1e-4, atol: 1e-6, what });

function lse(xs: number[]): number {
  const m = Math.max(...xs);
  return m + Math.log(xs.reduce((s, v) => s + Math.exp(v - m), 0));
}

function brute(emb: number[][], labels: number[], m: number, g: number, paper: boolean): number {
  const sp: number[] = [];
  const sn: number[] = [];
  for (let i = 0; i < emb.length; i++) {
    for (let j = i + 1; j < emb.length; j++) {
      const s = (1 + ref.cos(emb[i], emb[j])) / 2;
      (labels[i] === labels[j] ? sp : sn).push(s);
    }
  }
  const ap = sp.map((s) => Math.max(0, paper ? 1 + m - s : 1 + m + s));
  const an = sn.map((s) => Math.max(0, paper ? s + m : s - m));
  const x = lse(sn.map((s, k) => an[k] * g * (s - m))) + lse(sp.map((s, k) => -ap[k] * g * (s - (1 - m))));
  return Math.log1p(Math.exp(x));
}

test("CircleLoss matches a float64 brute force for both weightings", () => {
  close(lossValue(new CircleLoss({ scaleFactor: 16 }), E, { labels: L }), brute(E, L, 0.25, 16, false), "quaterion");
  close(
    lossValue(new CircleLoss({ scaleFactor: 16, weighting: "paper" }), E, { labels: L }),
    brute(E, L, 0.25, 16, true),
    "paper",
  );
  // the default scale 256 stays finite (log-sum-exp, not exp)
  const big = lossAndGrad(new CircleLoss(), E, { labels: L });
  close(big.value, brute(E, L, 0.25, 256, false), "default scale");
  assert.ok(big.grad.every(Number.isFinite));
});

test("CircleLoss: batch order, near zero when pairs are well separated, 0 without pairs", () => {
  orderInvariance(new CircleLoss({ scaleFactor: 16 }), E, L, close);
  const tight = [[1, 0], [1, 0.001], [-1, 0], [-1, 0.001]];
  assert.ok(
    lossValue(new CircleLoss({ weighting: "paper", scaleFactor: 1024 }), tight, { labels: [0, 0, 1, 1] }) < 1e-6,
  );
  assert.equal(lossValue(new CircleLoss(), [[1, 0], [0, 1]], { labels: [0, 1] }), 0);
  assert.equal(lossValue(new CircleLoss(), [[1, 0], [0, 1]], { labels: [0, 0] }), 0);
});

test("CircleLoss: typed errors", () => {
  assert.throws(() => lossValue(new CircleLoss(), E, { labels: [0] }), hasCode("LABEL_MISMATCH"));
  assert.throws(() => new CircleLoss({ weighting: "x" as "paper" }), hasCode("UNKNOWN_NAME"));
  assert.throws(() => new CircleLoss({ margin: NaN }), hasCode("INVALID_ARGUMENT"));
});
