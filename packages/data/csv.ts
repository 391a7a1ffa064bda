/**
 * CSV source: RFC 4180 parsing (quoted fields, doubled quotes, CRLF) and numeric feature
 * tables with a label column.
 *
 * @module
 */
import { LikenessError, ShapeError, ValueError } from "@likeness/core";
import { type LabeledFeatures, labeledFeatures } from "./features.ts";

/** Options for {@link parseCsv}. */
export interface CsvOptions {
  /** Field delimiter (default `,`). */
  delimiter?: string;
}

/**
 * Parse CSV text into rows of fields. Blank lines are skipped.
 *
 * @param text CSV text
 * @param options delimiter
 * @returns rows of string fields
 * @throws {LikenessError} CORRUPT for an unterminated quoted field
 * @example
 * ```ts
 * import { parseCsv } from "@likeness/data";
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseCsv('a,"b,c"\n1,"say ""hi"""'), [["a", "b,c"], ["1", 'say "hi"']]);
 * ```
 */
export function parseCsv(text: string, options: CsvOptions = {}): string[][] {
  const delim = options.delimiter ?? ",";
  if (delim.length !== 1 || delim === '"' || delim === "\n") {
    throw new ValueError(
      "INVALID_ARGUMENT",
      `Invalid CSV delimiter ${JSON.stringify(delim)}: use one character such as , or ;`,
    );
  }
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  let line = 1;
  let startLine = 1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (ch === "\n") line++;
        field += ch;
      }
      continue;
    }
    if (ch === '"' && field === "") {
      quoted = true;
      startLine = line;
    } else if (ch === delim) {
      row.push(field);
      field = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      line++;
      row.push(field);
      if (!(row.length === 1 && row[0] === "")) rows.push(row);
      row = [];
      field = "";
    } else field += ch;
  }
  if (quoted) {
    throw new LikenessError(
      "CORRUPT",
      `Cannot parse CSV: the quoted field opened on line ${startLine} never closes; add the closing quote`,
    );
  }
  row.push(field);
  if (!(row.length === 1 && row[0] === "")) rows.push(row);
  return rows;
}

/** Options for {@link csvFeatures}. */
export interface CsvFeatureOptions extends CsvOptions {
  /** The first row holds column names (default false). */
  header?: boolean;
  /** Label column: index (negative counts from the end) or header name. Default -1 (last). */
  labelColumn?: number | string;
  /** Parse labels as numbers (default true when every label is numeric). */
  numericLabels?: boolean;
}

/**
 * A numeric CSV table with one label column as labelled features (scikit-learn's digits.csv
 * is 64 pixel columns and the digit last).
 *
 * @param text CSV text
 * @param options header, labelColumn, delimiter, numericLabels
 * @returns validated labelled features
 * @throws {ShapeError} SHAPE_MISMATCH for ragged rows; EMPTY_INPUT without data rows; LABEL_MISMATCH for empty labels
 * @throws {ValueError} NON_FINITE naming the row and column of a non-numeric feature; UNKNOWN_NAME for a bad label column
 * @example
 * ```ts
 * import { csvFeatures } from "@likeness/data";
 * import assert from "node:assert/strict";
 * const d = csvFeatures("x,y,label\n0,1,a\n1,0,b", { header: true, labelColumn: "label" });
 * assert.deepEqual(d.labels, ["a", "b"]);
 * ```
 */
export function csvFeatures(text: string, options: CsvFeatureOptions = {}): LabeledFeatures {
  const rows = parseCsv(text, options);
  const header = options.header ? rows.shift() : undefined;
  if (rows.length === 0) throw new ShapeError("Cannot read CSV features: no data rows", "EMPTY_INPUT");
  const width = rows[0].length;
  let col: number;
  const lc = options.labelColumn ?? -1;
  if (typeof lc === "string") {
    col = header ? header.indexOf(lc) : -1;
    if (col < 0) {
      throw new ValueError(
        "UNKNOWN_NAME",
        `Unknown label column ${JSON.stringify(lc)}: ${
          header ? `use one of ${header.join(", ")}` : "pass header: true or a column index"
        }`,
      );
    }
  } else col = lc < 0 ? width + lc : lc;
  if (!Number.isInteger(col) || col < 0 || col >= width) {
    throw new ValueError("OUT_OF_RANGE", `Invalid label column ${lc}: rows have ${width} columns`);
  }
  const features: number[][] = [];
  const raw: string[] = [];
  rows.forEach((r, i) => {
    const line = i + 1 + (header ? 1 : 0);
    if (r.length !== width) {
      throw new ShapeError(
        `Cannot read CSV features: line ${line} has ${r.length} fields but the first row has ${width}; make every row the same length`,
      );
    }
    const f: number[] = [];
    r.forEach((v, j) => {
      if (j === col) return;
      const x = v.trim() === "" ? NaN : Number(v);
      if (!Number.isFinite(x)) {
        throw new ValueError(
          "NON_FINITE",
          `Cannot read CSV features: line ${line}, column ${j + 1} is ${
            JSON.stringify(v)
          }; every feature must be a finite number`,
          { details: { line, column: j + 1 } },
        );
      }
      f.push(x);
    });
    features.push(f);
    raw.push(r[col].trim());
  });
  const numeric = options.numericLabels ?? raw.every((v) => v !== "" && Number.isFinite(Number(v)));
  return labeledFeatures(features, raw.map((v) => (numeric ? Number(v) : v)));
}
