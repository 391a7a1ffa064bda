/**
 * File-backed sources: read JSONL, CSV and IDX files (IDX optionally gzipped) through
 * `node:fs` and `node:zlib`, which Deno and Bun both provide.
 *
 * @module
 */
import { LikenessError } from "@likeness/core";
import { type CsvFeatureOptions, csvFeatures } from "./csv.ts";
import type { LabeledFeatures } from "./features.ts";
import { type IdxTensor, parseIdx } from "./idx.ts";
import { jsonlGroups, jsonlPairs, type PairFields } from "./jsonl.ts";
import type { SimilarityGroupSample, SimilarityPairSample } from "./samples.ts";
import { firstExisting, readMaybeGzip, readText } from "./_files.ts";

function mustExist(path: string): void {
  if (!firstExisting([path])) {
    throw new LikenessError("NOT_FOUND", `Cannot read ${path}: no such file; check the path`, { details: { path } });
  }
}

/**
 * Read pair samples from a JSONL file (gzip allowed).
 *
 * @param path file path
 * @param fields field names (default obj_a, obj_b, score, subgroup)
 * @returns validated pair samples
 * @throws {LikenessError} NOT_FOUND for a missing file; CORRUPT for a bad line
 * @example
 * ```ts
 * import { readJsonlPairs } from "@likeness/data";
 * // const pairs = await readJsonlPairs("pairs.jsonl");
 * ```
 */
export async function readJsonlPairs(path: string, fields: PairFields = {}): Promise<SimilarityPairSample<unknown>[]> {
  mustExist(path);
  return jsonlPairs(await readText(path), fields);
}

/**
 * Read group samples from a JSONL file (gzip allowed).
 *
 * @param path file path
 * @param fields field names (default obj, group)
 * @returns validated group samples
 * @throws {LikenessError} NOT_FOUND for a missing file; CORRUPT for a bad line
 * @example
 * ```ts
 * import { readJsonlGroups } from "@likeness/data";
 * // const groups = await readJsonlGroups("groups.jsonl");
 * ```
 */
export async function readJsonlGroups(
  path: string,
  fields: { obj?: string; group?: string } = {},
): Promise<SimilarityGroupSample<unknown>[]> {
  mustExist(path);
  return jsonlGroups(await readText(path), fields);
}

/**
 * Read a numeric CSV file (gzip allowed) with a label column as labelled features.
 *
 * @param path file path
 * @param options header, labelColumn, delimiter, numericLabels
 * @returns validated labelled features
 * @throws {LikenessError} NOT_FOUND for a missing file
 * @throws {ShapeError} / {ValueError} for ragged rows, missing labels or non-numeric features
 * @example
 * ```ts
 * import { readCsvFeatures } from "@likeness/data";
 * // const d = await readCsvFeatures("digits.csv.gz", { labelColumn: -1 });
 * ```
 */
export async function readCsvFeatures(path: string, options: CsvFeatureOptions = {}): Promise<LabeledFeatures> {
  mustExist(path);
  return csvFeatures(await readText(path), options);
}

/**
 * Read an IDX file (plain or gzipped); with `limit`, only the bytes the first items need.
 *
 * @param path file path
 * @param options limit, expectMagic (2051 images, 2049 labels)
 * @returns the tensor
 * @throws {LikenessError} NOT_FOUND for a missing file; CORRUPT for a bad header or truncated body
 * @example
 * ```ts
 * import { readIdxFile } from "@likeness/data";
 * // const labels = await readIdxFile("t10k-labels-idx1-ubyte.gz", { expectMagic: 2049 });
 * ```
 */
export async function readIdxFile(
  path: string,
  options: { limit?: number; expectMagic?: number } = {},
): Promise<IdxTensor> {
  mustExist(path);
  let minBytes: number | undefined;
  if (options.limit !== undefined) {
    const head = parseHeaderOnly(await readMaybeGzip(path, 64));
    minBytes = head.headerBytes + options.limit * head.per;
  }
  return parseIdx(await readMaybeGzip(path, minBytes), options);
}

function parseHeaderOnly(bytes: Uint8Array): { headerBytes: number; per: number } {
  const nd = bytes[3] ?? 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let per = 1;
  for (let d = 1; d < nd && 4 + 4 * d + 4 <= bytes.length; d++) per *= view.getUint32(4 + 4 * d, false);
  return { headerBytes: 4 + 4 * nd, per };
}
