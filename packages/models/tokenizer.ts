/**
 * A SentencePiece-style tokenizer: greedy longest match over a piece vocabulary, with `▁`
 * marking word starts (the scheme of the Universal Sentence Encoder's `vocab.json`).
 *
 * @module
 */
import { ValueError } from "@likeness/core";

/** The word-boundary marker SentencePiece puts before each word. */
export const WORD_BOUNDARY = "\u2581";

/** Options of {@link SentencePieceTokenizer}. */
export interface SentencePieceTokenizerOptions {
  /** Id emitted for characters no piece covers (default 0, USE's `<unk>`). */
  unknownId?: number;
  /** Ids that are control symbols and never matched in text (default 0–5 for USE: unk, `<s>`, `</s>`, extra ids). */
  reservedIds?: readonly number[];
}

/**
 * Greedy longest-match SentencePiece tokenizer.
 *
 * Text is NFKC-normalised, trimmed, runs of whitespace become one `▁`, and a `▁` is put in
 * front; then at each position the longest vocabulary piece that matches is taken. A run of
 * uncovered characters becomes one unknown id.
 *
 * @example
 * ```ts
 * import { SentencePieceTokenizer } from "@likeness/models";
 * const tok = new SentencePieceTokenizer([["<unk>", 0], ["▁how", -1], ["▁old", -2], ["?", -3]], { reservedIds: [0] });
 * console.log(tok.encode("how old?")); // [1, 2, 3]
 * ```
 */
export class SentencePieceTokenizer {
  readonly #pieces = new Map<string, number>();
  readonly #maxLen: number;
  readonly #unk: number;
  readonly #vocab: readonly string[];

  /**
   * @param vocab `[piece, score]` pairs; the index is the token id (scores are unused by greedy matching)
   * @param options unknown id and reserved ids
   * @throws {ValueError} INVALID_ARGUMENT for an empty or malformed vocabulary
   */
  constructor(vocab: readonly (readonly [string, number])[], options: SentencePieceTokenizerOptions = {}) {
    if (!Array.isArray(vocab) || vocab.length === 0) {
      throw new ValueError(
        "INVALID_ARGUMENT",
        "Cannot build a tokenizer: the vocabulary is empty; pass [piece, score] pairs",
      );
    }
    const reserved = new Set(options.reservedIds ?? [0, 1, 2, 3, 4, 5]);
    let maxLen = 1;
    const pieces: string[] = [];
    vocab.forEach((entry, id) => {
      const piece = Array.isArray(entry) ? entry[0] : undefined;
      if (typeof piece !== "string") {
        throw new ValueError(
          "INVALID_ARGUMENT",
          `Cannot build a tokenizer: vocabulary entry ${id} is not a [piece, score] pair`,
        );
      }
      pieces.push(piece);
      if (reserved.has(id) || piece.length === 0) return;
      if (!this.#pieces.has(piece)) this.#pieces.set(piece, id);
      if (piece.length > maxLen) maxLen = piece.length;
    });
    this.#maxLen = maxLen;
    this.#unk = options.unknownId ?? 0;
    this.#vocab = pieces;
  }

  /** Number of pieces. */
  get size(): number {
    return this.#vocab.length;
  }

  /**
   * Split text into token ids.
   * @param text any string (an empty string gives the lone word-boundary piece, if the vocabulary has it)
   * @returns token ids
   * @throws {ValueError} INVALID_ARGUMENT when `text` is not a string
   */
  encode(text: string): number[] {
    if (typeof text !== "string") {
      throw new ValueError("INVALID_ARGUMENT", `Cannot tokenize ${typeof text}: pass a string`);
    }
    const s = WORD_BOUNDARY + text.normalize("NFKC").trim().replace(/\s+/gu, WORD_BOUNDARY);
    const chars = Array.from(s); // code points, so surrogate pairs stay whole
    const out: number[] = [];
    let i = 0;
    let lastUnknown = false;
    while (i < chars.length) {
      let found = -1;
      let len = 0;
      for (let l = Math.min(this.#maxLen, chars.length - i); l > 0; l--) {
        const id = this.#pieces.get(chars.slice(i, i + l).join(""));
        if (id !== undefined) {
          found = id;
          len = l;
          break;
        }
      }
      if (found < 0) {
        if (!lastUnknown) out.push(this.#unk);
        lastUnknown = true;
        i++;
      } else {
        out.push(found);
        lastUnknown = false;
        i += len;
      }
    }
    return out;
  }

  /**
   * The pieces of a text (for debugging).
   * @param text any string
   * @returns the matched pieces
   */
  pieces(text: string): string[] {
    return this.encode(text).map((id) => this.#vocab[id]);
  }
}
