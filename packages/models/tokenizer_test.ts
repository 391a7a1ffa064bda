import { test } from "node:test";
import assert from "node:assert/strict";
import { SentencePieceTokenizer } from "@likeness/models";

const vocab: [string, number][] = [
  ["<unk>", 0],
  ["▁", -1],
  ["▁how", -2],
  ["▁ho", -3],
  ["w", -4],
  ["▁old", -5],
  ["?", -6],
  ["o", -7],
  ["ld", -8],
];

test("tokenizer takes the longest matching piece at each position", () => {
  const tok = new SentencePieceTokenizer(vocab, { reservedIds: [0] });
  assert.deepEqual(tok.encode("how old?"), [2, 5, 6]);
  assert.deepEqual(tok.pieces("how old?"), ["▁how", "▁old", "?"]);
  // whitespace runs collapse, ends are trimmed
  assert.deepEqual(tok.encode("  how \t\n old? "), [2, 5, 6]);
  // "▁hoold": ▁ho then o then ld
  assert.deepEqual(tok.pieces("hoold"), ["▁ho", "o", "ld"]);
});

test("tokenizer merges a run of unknown characters into one unknown id", () => {
  const tok = new SentencePieceTokenizer(vocab, { reservedIds: [0] });
  assert.deepEqual(tok.encode("how zzz?"), [2, 1, 0, 6]);
  assert.deepEqual(tok.encode(""), [1]);
  // reserved ids are never matched in text
  assert.deepEqual(tok.encode("<unk>"), [1, 0]);
});

test("tokenizer rejects bad vocabularies and non-strings with typed errors", () => {
  assert.throws(() => new SentencePieceTokenizer([]), (e: Error & { code?: string }) => e.code === "INVALID_ARGUMENT");
  const tok = new SentencePieceTokenizer(vocab);
  assert.throws(
    () => tok.encode(3 as unknown as string),
    (e: Error & { code?: string }) => e.code === "INVALID_ARGUMENT",
  );
});
