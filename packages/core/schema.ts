/**
 * A small schema validator for JSON values (configs, component parameters, request bodies) that
 * reports every problem at once, each with its JSON path, the bad value and the fix
 * (`config.trainer.epochs: must be a positive integer, got -1`). Unknown keys and names are
 * errors with edit-distance suggestions. Component declarations (`components.ts`) state their
 * parameters in it; the CLI config, the artifact loader and the server's OpenAPI document read
 * them. Ours rather than a library such as zod: it is ~400 lines, has no dependency, and its
 * schemas are plain JSON data that also print as `--help` text and JSON Schema.
 *
 * @module
 */
import { didYouMean, suggest } from "./suggest.ts";

/** One problem found in a config. */
export interface Issue {
  /** JSON path, e.g. `config.trainer.epochs` or `config.eval.metrics[1]`. */
  path: string;
  /** What is wrong and how to fix it, e.g. `must be a positive integer, got -1`. */
  message: string;
}

/** A number (optionally an integer) with optional bounds. */
export interface NumberSchema {
  /** Kind tag. */
  kind: "number";
  /** One line saying what it sets (docs, `--help`, OpenAPI). */
  summary?: string;
  /** The value used when it is not given (documentation; the component applies it). */
  default?: number;
  /** Whole numbers only. */
  integer?: boolean;
  /** Smallest allowed value (inclusive). */
  min?: number;
  /** Largest allowed value (inclusive). */
  max?: number;
  /** Values must be greater than this. */
  exclusiveMin?: number;
}

/** `true` or `false`. */
export interface BooleanSchema {
  /** Kind tag. */
  kind: "boolean";
  /** One line saying what it sets (docs, `--help`, OpenAPI). */
  summary?: string;
  /** The value used when it is not given (documentation; the component applies it). */
  default?: boolean;
}

/** A string (non-empty unless `allowEmpty`). */
export interface StringSchema {
  /** Kind tag. */
  kind: "string";
  /** One line saying what it sets (docs, `--help`, OpenAPI). */
  summary?: string;
  /** The value used when it is not given (documentation; the component applies it). */
  default?: string;
  /** Accept `""` (default false). */
  allowEmpty?: boolean;
}

/** One of a fixed list of strings (a typo gets a suggestion). */
export interface EnumSchema {
  /** Kind tag. */
  kind: "enum";
  /** One line saying what it sets (docs, `--help`, OpenAPI). */
  summary?: string;
  /** The value used when it is not given (documentation; the component applies it). */
  default?: string;
  /** Allowed values. */
  values: readonly string[];
  /** What the value names, e.g. `metric` (used in `unknown metric "x"`). */
  what: string;
}

/** A list of items. */
export interface ArraySchema {
  /** Kind tag. */
  kind: "array";
  /** One line saying what it sets (docs, `--help`, OpenAPI). */
  summary?: string;
  /** The value used when it is not given (documentation; the component applies it). */
  default?: unknown[];
  /** Schema of each item. */
  items: Schema;
  /** Fewest items (default 0). */
  minItems?: number;
  /** Exact number of items. */
  length?: number;
}

/** A field of an {@link ObjectSchema}. */
export interface Field {
  /** Its schema. */
  schema: Schema;
  /** Must be present (default false). */
  required?: boolean;
}

/** An object with known keys; any other key is an error. */
export interface ObjectSchema {
  /** Kind tag. */
  kind: "object";
  /** One line saying what it sets (docs, `--help`, OpenAPI). */
  summary?: string;
  /** The allowed keys. */
  fields: Record<string, Field>;
}

/**
 * An object whose `tag` key picks a variant (e.g. `{ "name": "TripletMarginLoss", ... }`);
 * with `shorthand`, a bare string stands for `{ [tag]: string }`.
 */
export interface TaggedSchema {
  /** Kind tag. */
  kind: "tagged";
  /** One line saying what it sets (docs, `--help`, OpenAPI). */
  summary?: string;
  /** The key naming the variant (`name` or `type`). */
  tag: string;
  /** What the variants are, e.g. `loss`. */
  what: string;
  /** The other keys of each variant. */
  variants: Record<string, ObjectSchema>;
  /** Accept a bare string for a variant without other keys. */
  shorthand?: boolean;
}

/** Any one of several schemas. */
export interface OneOfSchema {
  /** Kind tag. */
  kind: "oneOf";
  /** One line saying what it sets (docs, `--help`, OpenAPI). */
  summary?: string;
  /** The alternatives, tried in order. */
  options: Schema[];
}

/** Anything (checked elsewhere). */
export interface AnySchema {
  /** Kind tag. */
  kind: "any";
  /** One line saying what it sets (docs, `--help`, OpenAPI). */
  summary?: string;
}

/** A config schema. */
export type Schema =
  | NumberSchema
  | BooleanSchema
  | StringSchema
  | EnumSchema
  | ArraySchema
  | ObjectSchema
  | TaggedSchema
  | OneOfSchema
  | AnySchema;

function withDefault<T extends Schema>(schema: T, dflt: unknown): T {
  return dflt === undefined ? schema : { ...schema, default: dflt };
}

/** Schema builders, so config tables read short (the optional argument is the declared default). */
export const s = {
  /** A finite number. */
  number: (o: Omit<NumberSchema, "kind"> = {}): NumberSchema => ({ kind: "number", ...o }),
  /** A number > 0. */
  positive: (dflt?: number): NumberSchema => withDefault({ kind: "number", exclusiveMin: 0 }, dflt),
  /** An integer ≥ 1. */
  positiveInt: (dflt?: number): NumberSchema => withDefault({ kind: "number", integer: true, min: 1 }, dflt),
  /** An integer ≥ 0. */
  nonNegativeInt: (dflt?: number): NumberSchema => withDefault({ kind: "number", integer: true, min: 0 }, dflt),
  /** A number in [0, 1]. */
  fraction: (): NumberSchema => ({ kind: "number", min: 0, max: 1 }),
  /** true or false. */
  boolean: (dflt?: boolean): BooleanSchema => withDefault({ kind: "boolean" }, dflt),
  /** A non-empty string. */
  string: (): StringSchema => ({ kind: "string" }),
  /** One of `values`. */
  enum: (what: string, values: readonly string[], dflt?: string): EnumSchema =>
    withDefault({ kind: "enum", what, values }, dflt),
  /** A list. */
  array: (items: Schema, o: { minItems?: number; length?: number } = {}): ArraySchema => ({
    kind: "array",
    items,
    ...o,
  }),
  /** An object with these keys (name → schema; a name ending in `!` is required). */
  object: (fields: Record<string, Schema>): ObjectSchema => {
    const out: Record<string, Field> = {};
    for (const [k, v] of Object.entries(fields)) {
      if (k.endsWith("!")) out[k.slice(0, -1)] = { schema: v, required: true };
      else out[k] = { schema: v };
    }
    return { kind: "object", fields: out };
  },
  /** Any of these. */
  oneOf: (...options: Schema[]): OneOfSchema => ({ kind: "oneOf", options }),
  /** Anything. */
  any: (): AnySchema => ({ kind: "any" }),
};

/**
 * Show a JSON value briefly for a message (`-1`, `"abc"`, `[1,2]`).
 *
 * @param v the value
 * @returns at most about 60 characters
 * @example
 * ```ts
 * import { showValue } from "@likeness/core";
 * console.log(showValue("abc")); // "abc"
 * ```
 */
export function showValue(v: unknown): string {
  if (v === undefined) return "nothing";
  let t: string;
  try {
    t = JSON.stringify(v) ?? String(v);
  } catch {
    t = String(v);
  }
  return t.length > 60 ? `${t.slice(0, 57)}...` : t;
}

/**
 * Describe what a schema accepts, for messages (`a positive integer`, `one of adam, sgd`).
 *
 * @param schema the schema
 * @returns a short noun phrase
 * @example
 * ```ts
 * import { describeSchema, s } from "@likeness/core";
 * console.log(describeSchema(s.positiveInt())); // a positive integer
 * ```
 */
export function describeSchema(schema: Schema): string {
  switch (schema.kind) {
    case "number": {
      const { integer, min, max, exclusiveMin } = schema;
      const noun = integer ? "integer" : "number";
      if (integer && min === 1 && max === undefined) return "a positive integer";
      if (integer && min === 0 && max === undefined) return "a non-negative integer";
      if (exclusiveMin === 0 && max === undefined && min === undefined) return `a positive ${noun}`;
      if (min !== undefined && max !== undefined) return `${integer ? "an integer" : "a number"} in [${min}, ${max}]`;
      if (exclusiveMin !== undefined && max !== undefined) {
        return `${integer ? "an integer" : "a number"} in (${exclusiveMin}, ${max}]`;
      }
      if (min !== undefined) return `${integer ? "an integer" : "a number"} ≥ ${min}`;
      if (exclusiveMin !== undefined) return `${integer ? "an integer" : "a number"} > ${exclusiveMin}`;
      if (max !== undefined) return `${integer ? "an integer" : "a number"} ≤ ${max}`;
      return integer ? "an integer" : "a finite number";
    }
    case "boolean":
      return "true or false";
    case "string":
      return "a string";
    case "enum":
      return schema.values.length === 1 ? `"${schema.values[0]}"` : `one of ${schema.values.join(", ")}`;
    case "array":
      return schema.length !== undefined
        ? `a list of ${schema.length} × ${describeSchema(schema.items)}`
        : `a list of ${describeSchema(schema.items).replace(/^an? /, "")}s`;
    case "object":
      return "an object";
    case "tagged":
      return `a ${schema.what} object with "${schema.tag}"${schema.shorthand ? " (or just its name)" : ""}`;
    case "oneOf":
      return schema.options.map(describeSchema).join(" or ");
    case "any":
      return "anything";
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function keyPath(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/**
 * Check `value` against `schema`, appending every problem to `issues`.
 *
 * @param value the JSON value
 * @param schema what it must be
 * @param path its JSON path (e.g. `config`)
 * @param issues problems found so far (appended to)
 * @returns `issues`
 * @example
 * ```ts
 * import { s, validate } from "@likeness/core";
 * const issues = validate({ epochs: -1 }, s.object({ "epochs!": s.positiveInt() }), "config.trainer");
 * console.log(issues[0]); // { path: "config.trainer.epochs", message: "must be a positive integer, got -1" }
 * ```
 */
export function validate(value: unknown, schema: Schema, path: string, issues: Issue[] = []): Issue[] {
  const bad = (message: string) => issues.push({ path, message });
  switch (schema.kind) {
    case "any":
      return issues;
    case "number": {
      const { integer, min, max, exclusiveMin } = schema;
      const ok = typeof value === "number" && Number.isFinite(value) && (!integer || Number.isInteger(value)) &&
        (min === undefined || value >= min) && (max === undefined || value <= max) &&
        (exclusiveMin === undefined || value > exclusiveMin);
      if (!ok) bad(`must be ${describeSchema(schema)}, got ${showValue(value)}`);
      return issues;
    }
    case "boolean":
      if (typeof value !== "boolean") bad(`must be true or false, got ${showValue(value)}`);
      return issues;
    case "string":
      if (typeof value !== "string" || (!schema.allowEmpty && value === "")) {
        bad(`must be a non-empty string, got ${showValue(value)}`);
      }
      return issues;
    case "enum":
      if (typeof value !== "string") bad(`must be ${describeSchema(schema)}, got ${showValue(value)}`);
      else if (!schema.values.includes(value)) {
        bad(`unknown ${schema.what} ${JSON.stringify(value)}${didYouMean(value, schema.values)}`);
      }
      return issues;
    case "array": {
      if (!Array.isArray(value)) {
        bad(`must be ${describeSchema(schema)}, got ${showValue(value)}`);
        return issues;
      }
      if (schema.length !== undefined && value.length !== schema.length) {
        bad(`must have exactly ${schema.length} items, got ${value.length}`);
      } else if (schema.minItems !== undefined && value.length < schema.minItems) {
        bad(`must have at least ${schema.minItems} item${schema.minItems === 1 ? "" : "s"}, got ${value.length}`);
      }
      value.forEach((item, i) => validate(item, schema.items, `${path}[${i}]`, issues));
      return issues;
    }
    case "object":
      return validateObject(value, schema, path, issues);
    case "tagged": {
      const names = Object.keys(schema.variants);
      let obj: unknown = value;
      if (typeof value === "string" && schema.shorthand) obj = { [schema.tag]: value };
      if (!isPlainObject(obj)) {
        bad(`must be ${describeSchema(schema)}, got ${showValue(value)}`);
        return issues;
      }
      const tag = obj[schema.tag];
      const tagPath = typeof value === "string" ? path : keyPath(path, schema.tag);
      if (tag === undefined) {
        issues.push({ path: tagPath, message: `is required: the ${schema.what}, one of ${names.join(", ")}` });
        return issues;
      }
      if (typeof tag !== "string") {
        issues.push({ path: tagPath, message: `must be a ${schema.what} name (a string), got ${showValue(tag)}` });
        return issues;
      }
      const variant = schema.variants[tag];
      if (!variant) {
        issues.push({
          path: tagPath,
          message: `unknown ${schema.what} ${JSON.stringify(tag)}${didYouMean(tag, names)}`,
        });
        return issues;
      }
      const withTag: ObjectSchema = {
        kind: "object",
        fields: { [schema.tag]: { schema: { kind: "any" }, required: true }, ...variant.fields },
      };
      return validateObject(obj, withTag, path, issues, `${schema.what} ${tag}`, schema.tag);
    }
    case "oneOf": {
      for (const option of schema.options) {
        if (validate(value, option, path, []).length === 0) return issues;
      }
      // One object-like alternative whose shape matches: report its detailed problems.
      const structured = schema.options.filter((o) => o.kind === "object" || o.kind === "tagged");
      if (structured.length === 1 && isPlainObject(value)) return validate(value, structured[0], path, issues);
      const strings = schema.options.filter((o) => o.kind === "enum") as EnumSchema[];
      if (typeof value === "string" && strings.length > 0) {
        const all = strings.flatMap((e) => e.values);
        const hint = didYouMean(value, all);
        bad(
          hint.startsWith("; did")
            ? `unknown ${strings[0].what} ${JSON.stringify(value)}${hint}`
            : `must be ${describeSchema(schema)}, got ${showValue(value)}`,
        );
        return issues;
      }
      bad(`must be ${describeSchema(schema)}, got ${showValue(value)}`);
      return issues;
    }
  }
}

function validateObject(
  value: unknown,
  schema: ObjectSchema,
  path: string,
  issues: Issue[],
  owner?: string,
  tagKey?: string,
): Issue[] {
  if (!isPlainObject(value)) {
    issues.push({ path, message: `must be an object, got ${showValue(value)}` });
    return issues;
  }
  const keys = Object.keys(schema.fields).filter((k) => k !== tagKey);
  for (const [k, v] of Object.entries(value)) {
    const field = schema.fields[k];
    if (!field) {
      const hint = keys.length === 0 ? `; ${owner ?? "this object"} takes no keys here` : didYouMean(
        k,
        suggest(k, keys.filter((x) => !(x in value))) !== undefined ? keys.filter((x) => !(x in value)) : keys,
      );
      issues.push({ path: keyPath(path, k), message: `unknown key${owner ? ` for ${owner}` : ""}${hint}` });
      continue;
    }
    validate(v, field.schema, keyPath(path, k), issues);
  }
  for (const [k, f] of Object.entries(schema.fields)) {
    if (f.required && value[k] === undefined) {
      issues.push({ path: keyPath(path, k), message: `is required: ${describeSchema(f.schema)}` });
    }
  }
  return issues;
}

/**
 * Format issues as lines `path: message`.
 *
 * @param issues problems
 * @returns one line per issue
 * @example
 * ```ts
 * import { formatIssues } from "@likeness/core";
 * console.log(formatIssues([{ path: "config.seed", message: "must be an integer, got 1.5" }]));
 * ```
 */
export function formatIssues(issues: readonly Issue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join("\n");
}

/**
 * The JSON Schema (draft 2020-12, as OpenAPI 3.1 uses) of a schema, with its summary as
 * `description` and its declared `default`.
 *
 * @param schema the schema
 * @returns a JSON Schema object
 * @example
 * ```ts
 * import { s, toJsonSchema } from "@likeness/core";
 * import assert from "node:assert/strict";
 * assert.deepEqual(toJsonSchema(s.enum("kind", ["flat", "hnsw"], "flat")), { enum: ["flat", "hnsw"], default: "flat" });
 * ```
 */
export function toJsonSchema(schema: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  switch (schema.kind) {
    case "number":
      out.type = schema.integer ? "integer" : "number";
      if (schema.min !== undefined) out.minimum = schema.min;
      if (schema.max !== undefined) out.maximum = schema.max;
      if (schema.exclusiveMin !== undefined) out.exclusiveMinimum = schema.exclusiveMin;
      break;
    case "boolean":
      out.type = "boolean";
      break;
    case "string":
      out.type = "string";
      if (!schema.allowEmpty) out.minLength = 1;
      break;
    case "enum":
      out.enum = [...schema.values];
      break;
    case "array":
      out.type = "array";
      out.items = toJsonSchema(schema.items);
      if (schema.length !== undefined) out.minItems = out.maxItems = schema.length;
      else if (schema.minItems !== undefined) out.minItems = schema.minItems;
      break;
    case "object": {
      out.type = "object";
      const props: Record<string, unknown> = {};
      const required: string[] = [];
      for (const [k, f] of Object.entries(schema.fields)) {
        props[k] = toJsonSchema(f.schema);
        if (f.required) required.push(k);
      }
      out.properties = props;
      if (required.length > 0) out.required = required;
      out.additionalProperties = false;
      break;
    }
    case "tagged":
      out.oneOf = Object.entries(schema.variants).map(([name, v]) => {
        const o = toJsonSchema(v) as { properties: Record<string, unknown>; required?: string[] };
        return {
          ...o,
          properties: { [schema.tag]: { const: name }, ...o.properties },
          required: [schema.tag, ...(o.required ?? [])],
        };
      });
      break;
    case "oneOf":
      out.oneOf = schema.options.map(toJsonSchema);
      break;
    case "any":
      break;
  }
  if (schema.summary !== undefined) out.description = schema.summary;
  if ("default" in schema && schema.default !== undefined) out.default = schema.default;
  return out;
}
