import { test } from "node:test";
import assert from "node:assert/strict";
import { didYouMean, editDistance, suggest } from "./suggest.ts";

test("editDistance counts insertions, deletions, substitutions and swaps", () => {
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(editDistance("abc", ""), 3);
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(editDistance("TriplteMarginLoss", "TripletMarginLoss"), 1); // one swap
  assert.equal(editDistance("epoch", "epochs"), 1);
  assert.equal(editDistance("ADAM", "adam"), 0); // case-insensitive
  assert.equal(editDistance("abc", "abc"), 0);
});

test("suggest picks the closest candidate within the typo limit", () => {
  assert.equal(suggest("TriplteMarginLoss", ["TripletLoss", "TripletMarginLoss", "NPairsLoss"]), "TripletMarginLoss");
  assert.equal(suggest("batch_size", ["batchSize", "epochs"]), "batchSize"); // same ignoring _ and case
  assert.equal(suggest("m_per_class", ["m-per-class", "shuffle"]), "m-per-class");
  assert.equal(suggest("xyz", ["epochs", "batchSize"]), undefined);
  assert.equal(suggest("a", []), undefined);
});

test("didYouMean suggests or lists the choices", () => {
  assert.equal(didYouMean("adma", ["adam", "sgd"]), '; did you mean "adam"?');
  assert.equal(didYouMean("qqqq", ["adam", "sgd"]), "; use one of adam, sgd");
  const many = Array.from({ length: 20 }, (_, i) => `name${i}xx`);
  assert.ok(didYouMean("zzzzzzzzzzzzzzzz", many).endsWith(", ..."));
});
