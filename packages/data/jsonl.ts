/**
 * JSON Lines source: one JSON value per line, parsed from text, with pair and group sample
 * readers.
 *
 * @module
 */
import { LikenessError, ShapeError } from "@likeness/core";
import {
  checkGroupSamples,
  checkPairSamples,
  type SimilarityGroupSample,
  type SimilarityPairSample,
} from "./samples.ts";

/**
 * Parse JSON Lines text: one value per non-blank line.
 *
 * @param text the file's contents
 * @returns the parsed values, in order
 * @throws {LikenessError} CORRUPT naming the line that is not valid JSON
 * @example
 * ```ts
 * import { parseJsonl } from "@likeness/data";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseJsonl('{"a":1}\n\n{"a":2}\n'), [{ a: 1 }, { a: 2 }]);
 * ```
 */
export function parseJsonl(text: string): unknown[] {
  const out: unknown[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    try {
      out.push(JSON.parse(line));
    } catch (e) {
      throw new LikenessError(
        "CORRUPT",
        `Cannot parse JSONL line ${i + 1}: ${(e as Error).message}; fix or remove it`,
        {
          cause: e,
          details: { line: i + 1 },
        },
      );
    }
  }
  return out;
}

/** Field names for {@link jsonlPairs} (defaults follow Quaterion: obj_a, obj_b, score, subgroup). */
export interface PairFields {
  /** Field of the first object (default `obj_a`, `objA` also accepted). */
  objA?: string;
  /** Field of the second object (default `obj_b`, `objB` also accepted). */
  objB?: string;
  /** Field of the score (default `score`; 1 when absent). */
  score?: string;
  /** Field of the subgroup (default `subgroup`; 0 when absent). */
  subgroup?: string;
}

/**
 * Pair samples from JSON Lines (`{"obj_a": ..., "obj_b": ..., "score": 1, "subgroup": 0}` per line).
 *
 * @param text JSONL text
 * @param fields field names
 * @returns validated pair samples
 * @throws {LikenessError} CORRUPT for a bad line
 * @throws {ShapeError} EMPTY_INPUT for no samples or a missing object
 * @throws {ValueError} NON_FINITE for a bad score
 * @example
 * ```ts
 * import { jsonlPairs } from "@likeness/data";
 * import assert from "node:assert/strict";
 * const p = jsonlPairs('{"obj_a":"hi","obj_b":"hello","score":1}');
 * assert.equal(p[0].objB, "hello");
 * assert.equal(p[0].subgroup, 0);
 * ```
 */
export function jsonlPairs(text: string, fields: PairFields = {}): SimilarityPairSample<unknown>[] {
  const rows = parseJsonl(text).map((v, i) => {
    if (v === null || typeof v !== "object") {
      throw new ShapeError(`Cannot read pair sample ${i}: expected a JSON object per line`, "SHAPE_MISMATCH");
    }
    const r = v as Record<string, unknown>;
    const pick = (name: string | undefined, a: string, b: string) => name !== undefined ? r[name] : (r[a] ?? r[b]);
    return {
      objA: pick(fields.objA, "obj_a", "objA"),
      objB: pick(fields.objB, "obj_b", "objB"),
      score: (r[fields.score ?? "score"] ?? 1) as number,
      subgroup: (r[fields.subgroup ?? "subgroup"] ?? 0) as number,
    };
  });
  return checkPairSamples(rows) as SimilarityPairSample<unknown>[];
}

/**
 * Group samples from JSON Lines (`{"obj": ..., "group": 3}` per line).
 *
 * @param text JSONL text
 * @param fields field names (default `obj` and `group`)
 * @returns validated group samples
 * @throws {LikenessError} CORRUPT for a bad line
 * @throws {ShapeError} EMPTY_INPUT / LABEL_MISMATCH for missing objects or groups
 * @example
 * ```ts
 * import { jsonlGroups } from "@likeness/data";
 * import assert from "node:assert/strict";
 * assert.equal(jsonlGroups('{"obj":"cat","group":1}')[0].group, 1);
 * ```
 */
export function jsonlGroups(
  text: string,
  fields: { obj?: string; group?: string } = {},
): SimilarityGroupSample<unknown>[] {
  const rows = parseJsonl(text).map((v, i) => {
    if (v === null || typeof v !== "object") {
      throw new ShapeError(`Cannot read group sample ${i}: expected a JSON object per line`, "SHAPE_MISMATCH");
    }
    const r = v as Record<string, unknown>;
    return { obj: r[fields.obj ?? "obj"], group: r[fields.group ?? "group"] as number | string };
  });
  return checkGroupSamples(rows) as SimilarityGroupSample<unknown>[];
}
