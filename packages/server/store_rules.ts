/**
 * The rules every reference store applies to a write, in one place: `MemoryStore`,
 * `SqliteStore` and `PgVectorStore` all call {@link checkStoreWrite} before they change anything,
 * so the same bad write is refused with the same error code by every store, and a batch with one
 * bad item applies nothing. `tests/store_conformance_test.ts` runs one suite against every store.
 *
 * | rule | error (`code`) |
 * |---|---|
 * | `vector` is a `Float32Array` of the store's dimension | `ShapeError` (`SHAPE_MISMATCH`) |
 * | every vector value is finite (as float32) | `ValueError` (`NON_FINITE`) |
 * | `id`: a non-empty string of at most 256 UTF-16 code units, well-formed (no lone surrogate), no NUL | `ValueError` (`INVALID_ARGUMENT`) |
 * | `label`: the same rules as `id` | `ValueError` (`INVALID_ARGUMENT`) |
 * | `payload`: JSON-serialisable, at most `maxPayloadBytes` (64 KiB) of UTF-8 JSON | `INVALID_ARGUMENT`, `LikenessError` (`TOO_LARGE`) |
 * | no string in the payload holds NUL or a lone surrogate (PostgreSQL's `jsonb` cannot hold them) | `ValueError` (`INVALID_ARGUMENT`) |
 * | an id is put at most once per write, and is not both put and deleted | `ValueError` (`INVALID_ARGUMENT`) |
 *
 * Deletes of ids that cannot exist (empty, NUL, malformed) are no-ops, like any unknown id;
 * an id deleted twice in one write is deleted once. The 256-unit limits keep ids and labels
 * within PostgreSQL's B-tree key size (a key of more than about 2,700 bytes cannot be indexed).
 * A payload comes back as `JSON.parse(JSON.stringify(payload))`: an absent payload stays absent,
 * `null` stays `null`, key order may change (PostgreSQL's `jsonb` orders keys).
 *
 * @module
 */
import { LikenessError, ShapeError, ValueError } from "@likeness/core";
import type { ReferenceItem } from "./reference_index.ts";
import type { StoreWrite } from "./store.ts";

/** Limits every store applies (see the module doc). */
export const STORE_LIMITS = {
  /** Most UTF-16 code units in an id or a label. */
  maxIdLength: 256,
  /** Default most bytes of UTF-8 JSON in one item's payload. */
  maxPayloadBytes: 64 * 1024,
} as const;

/** What {@link checkStoreWrite} needs to know about the store. */
export interface StoreRulesOptions {
  /** The store's vector dimension. */
  dim: number;
  /** Most bytes of JSON per payload [64 KiB]. */
  maxPayloadBytes?: number;
}

/** One checked put: the item (its payload a JSON copy) and the payload's JSON text (`null` when absent). */
export interface CheckedPut {
  /** The item to store (vector copied, payload parsed back from its JSON). */
  item: ReferenceItem;
  /** The payload as JSON text, or null when absent. */
  json: string | null;
}

/** A write that passed every rule. */
export interface CheckedWrite {
  /** Items to put, in the order given. */
  put: CheckedPut[];
  /** Ids to delete, each once, only ones that could exist. */
  delete: string[];
}

/**
 * True when `s` holds a lone surrogate (not well-formed UTF-16: it cannot round-trip through UTF-8).
 *
 * @param s a string
 * @returns whether a high surrogate lacks its low half or a low surrogate stands alone
 * @example
 * ```ts
 * import { hasLoneSurrogate } from "@likeness/server";
 * console.log(hasLoneSurrogate("a\ud800"), hasLoneSurrogate("😀")); // true false
 * ```
 */
export function hasLoneSurrogate(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
      else return true;
    } else if (c >= 0xdc00 && c <= 0xdfff) return true;
  }
  return false;
}

/** Why `s` cannot be an id or label, or undefined when it can. */
function badKey(s: unknown): string | undefined {
  if (typeof s !== "string") return "must be a string";
  if (s.length === 0) return "must not be empty";
  if (s.length > STORE_LIMITS.maxIdLength) {
    return `has ${s.length} characters; the limit is ${STORE_LIMITS.maxIdLength}`;
  }
  if (s.includes("\u0000")) return "holds the NUL character (U+0000)";
  if (hasLoneSurrogate(s)) return "is not well-formed UTF-16 (a lone surrogate)";
  return undefined;
}

// In JSON text from JSON.stringify, a NUL or a lone surrogate appears as an escape (`\u0000`,
// `\udXXX`) after an odd number of backslashes; an even number is an escaped backslash instead.
const BAD_ESCAPE = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/i;

/** Printable form of an id for error messages. */
const show = (id: unknown) => JSON.stringify(String(id).slice(0, 80));

/**
 * Check a write against the store rules (see the module doc) before anything is changed.
 *
 * @param w the write (`put` items, `delete` ids)
 * @param options the store's dimension and payload limit
 * @returns the checked write: vectors copied, payloads as JSON text and parsed copies, deletes de-duplicated
 * @throws {ShapeError} SHAPE_MISMATCH when a vector is not a Float32Array of `dim` values
 * @throws {ValueError} NON_FINITE for a NaN or infinite value; INVALID_ARGUMENT for a bad id, label
 *   or payload, or an id put twice (or put and deleted) in one write
 * @throws {LikenessError} TOO_LARGE for a payload over the limit
 * @example
 * ```ts
 * import { checkStoreWrite } from "@likeness/server";
 * const w = checkStoreWrite({ put: [{ id: "a", label: "x", vector: new Float32Array([1, 0]) }] }, { dim: 2 });
 * console.log(w.put.length, w.delete); // 1 []
 * ```
 */
export function checkStoreWrite(w: StoreWrite, options: StoreRulesOptions): CheckedWrite {
  const { dim } = options;
  const maxPayload = options.maxPayloadBytes ?? STORE_LIMITS.maxPayloadBytes;
  if (w === null || typeof w !== "object") throw new ValueError("INVALID_ARGUMENT", "A store write must be an object");
  if (w.put !== undefined && !Array.isArray(w.put)) {
    throw new ValueError("INVALID_ARGUMENT", "A store write's put must be an array of items");
  }
  if (w.delete !== undefined && !Array.isArray(w.delete)) {
    throw new ValueError("INVALID_ARGUMENT", "A store write's delete must be an array of ids");
  }
  const put: CheckedPut[] = [];
  const seen = new Set<string>();
  const enc = new TextEncoder();
  for (const [i, it] of (w.put ?? []).entries()) {
    if (it === null || typeof it !== "object") throw new ValueError("INVALID_ARGUMENT", `put[${i}] must be an item`);
    const idProblem = badKey(it.id);
    if (idProblem) throw new ValueError("INVALID_ARGUMENT", `Cannot store put[${i}]: its id ${idProblem}`);
    if (seen.has(it.id)) {
      throw new ValueError("INVALID_ARGUMENT", `Cannot store ${show(it.id)}: the id appears twice in one write`);
    }
    seen.add(it.id);
    const labelProblem = badKey(it.label);
    if (labelProblem) {
      throw new ValueError("INVALID_ARGUMENT", `Cannot store ${show(it.id)}: its label ${labelProblem}`);
    }
    if (!(it.vector instanceof Float32Array) || it.vector.length !== dim) {
      throw new ShapeError(
        `Cannot store ${show(it.id)}: vector has ${
          it.vector instanceof Float32Array ? it.vector.length : "no Float32Array of"
        } dimensions but the store holds ${dim}`,
      );
    }
    for (let j = 0; j < dim; j++) {
      if (!Number.isFinite(it.vector[j])) {
        throw new ValueError("NON_FINITE", `Cannot store ${show(it.id)}: vector[${j}] is ${it.vector[j]}`, {
          details: { id: it.id, index: j },
        });
      }
    }
    let json: string | null = null;
    let payload: unknown;
    if (it.payload !== undefined) {
      try {
        json = JSON.stringify(it.payload) ?? null;
      } catch (cause) {
        throw new ValueError("INVALID_ARGUMENT", `Cannot store ${show(it.id)}: its payload is not JSON`, { cause });
      }
      if (json === null) {
        throw new ValueError("INVALID_ARGUMENT", `Cannot store ${show(it.id)}: its payload is not a JSON value`);
      }
      const bytes = enc.encode(json).length;
      if (bytes > maxPayload) {
        throw new LikenessError(
          "TOO_LARGE",
          `Cannot store ${show(it.id)}: its payload is ${bytes} bytes of JSON; the limit is ${maxPayload}`,
        );
      }
      if (BAD_ESCAPE.test(json)) {
        throw new ValueError(
          "INVALID_ARGUMENT",
          `Cannot store ${show(it.id)}: a string in its payload holds NUL (U+0000) or a lone surrogate`,
        );
      }
      payload = JSON.parse(json);
    }
    put.push({
      item: {
        id: it.id,
        label: it.label,
        vector: Float32Array.from(it.vector),
        ...(json === null ? {} : { payload }),
      },
      json,
    });
  }
  const del: string[] = [];
  const gone = new Set<string>();
  for (const id of w.delete ?? []) {
    if (typeof id !== "string") throw new ValueError("INVALID_ARGUMENT", "A store write's delete must hold string ids");
    if (seen.has(id)) {
      throw new ValueError("INVALID_ARGUMENT", `Cannot write ${show(id)}: the id is both put and deleted in one write`);
    }
    if (gone.has(id) || badKey(id)) continue;
    gone.add(id);
    del.push(id);
  }
  return { put, delete: del };
}
