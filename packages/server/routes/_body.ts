/**
 * The parts request bodies are made of, each declared once: its keys' JSON Schemas (read by the
 * OpenAPI document) beside the check the routes run (`k`, `label`, `input` or `vector`, `inputs`,
 * `items`). Plus the vector rules every route and the index loader share.
 *
 * @module
 */
import { HttpError } from "../http_errors.ts";
import type { ReferenceItem } from "../reference_index.ts";
import type { ServedModel } from "../model.ts";
import { hasLoneSurrogate } from "../store_rules.ts";
import type { BodyPart, JsonSchema, RouteContext } from "./context.ts";

/**
 * Validate a vector the model produced (or a store loaded): right length, finite as float32.
 *
 * @param v the vector
 * @param dim the model's dimension
 * @param what what to call it in the message
 * @throws {HttpError} 422 SHAPE_MISMATCH, 422 NON_FINITE
 */
export function checkFloat32(v: Float32Array, dim: number, what: string): void {
  if (v.length !== dim) throw new HttpError(422, "SHAPE_MISMATCH", `${what} has ${v.length} dimensions, not ${dim}`);
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) {
      throw new HttpError(422, "NON_FINITE", `${what}[${i}] is ${v[i]}; every value must be finite`);
    }
  }
}

/** A vector sent in JSON: an array of the model's dimension, finite as float32. */
function checkVector(v: unknown, what: string, ctx: RouteContext): Float32Array {
  const { limits, model } = ctx;
  if (!Array.isArray(v)) throw new HttpError(422, "INVALID_ARGUMENT", `${what} must be an array of numbers`);
  if (v.length > limits.maxDim) {
    throw new HttpError(413, "TOO_LARGE", `${what} has ${v.length} dimensions; the limit is ${limits.maxDim}`);
  }
  if (v.length !== model.dim) {
    throw new HttpError(
      422,
      "SHAPE_MISMATCH",
      `${what} has ${v.length} dimensions but the model produces ${model.dim}`,
    );
  }
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x !== "number" || !Number.isFinite(x)) {
      throw new HttpError(
        422,
        "NON_FINITE",
        `${what}[${i}] is ${JSON.stringify(x)}; every value must be a finite number`,
      );
    }
    out[i] = x;
    if (!Number.isFinite(out[i])) {
      throw new HttpError(
        422,
        "NON_FINITE",
        `${what}[${i}] is ${x}, which overflows float32 (|x| > 3.4028235e38); every value must be finite as float32`,
      );
    }
  }
  return out;
}

/** Raw inputs the model's own check accepts (its typed error keeps its code). */
function checkInputs(inputs: unknown[], what: string, model: ServedModel): void {
  for (let i = 0; i < inputs.length; i++) {
    try {
      model.checkInput?.(inputs[i]);
    } catch (e) {
      if (e instanceof HttpError) throw e;
      throw new HttpError(
        422,
        (e as { code?: string }).code ?? "INVALID_ARGUMENT",
        `${what}[${i}]: ${(e as Error).message}`,
      );
    }
  }
}

/** Encode raw inputs and check what the model returned. */
export async function encodeChecked(inputs: unknown[], ctx: RouteContext, what: (i: number) => string) {
  const vs = await ctx.model.encode(inputs);
  vs.forEach((v, i) => checkFloat32(v, ctx.model.dim, what(i)));
  return vs;
}

/** A non-empty list of at most `maxItems`, or the 422 / 413 that says why not. */
function checkList(v: unknown, key: string, noun: string, maxItems: number): unknown[] {
  if (!Array.isArray(v) || v.length === 0) {
    throw new HttpError(422, "INVALID_ARGUMENT", `"${key}" must be a non-empty array`);
  }
  if (v.length > maxItems) {
    throw new HttpError(413, "TOO_LARGE", `${v.length} ${noun}; the limit is ${maxItems} per request`);
  }
  return v;
}

/** Nesting depth of a JSON value, walked without recursion (a hostile payload cannot overflow the stack). */
function jsonDepth(v: unknown, limit: number): number {
  let max = 0;
  const stack: [unknown, number][] = [[v, 1]];
  while (stack.length) {
    const [x, d] = stack.pop()!;
    if (x === null || typeof x !== "object") continue;
    if (d > max) max = d;
    if (max > limit) return max;
    for (const y of Array.isArray(x) ? x : Object.values(x)) stack.push([y, d + 1]);
  }
  return max;
}

const INPUT: JsonSchema = { description: "Raw input for the model's encoder (string or flat number array)" };
const vectorSchema = (dim: number): JsonSchema => ({
  type: "array",
  items: { type: "number" },
  minItems: dim,
  maxItems: dim,
});

/**
 * `k`: how many neighbours, a positive integer up to `maxK`.
 *
 * @param dflt the value when absent
 * @returns the part
 */
export function kPart(dflt: number): BodyPart<number> {
  return {
    schemas: ({ limits }) => ({ k: { type: "integer", minimum: 1, maximum: limits.maxK, default: dflt } }),
    parse({ k }, { limits }) {
      if (k === undefined) return dflt;
      if (typeof k !== "number" || !Number.isInteger(k) || k < 1) {
        throw new HttpError(422, "INVALID_ARGUMENT", `k must be a positive integer, got ${JSON.stringify(k)}`);
      }
      if (k > limits.maxK) throw new HttpError(422, "K_TOO_LARGE", `k=${k} exceeds the limit ${limits.maxK}`);
      return k;
    },
  };
}

/** `label`: only return references with this label. */
export const labelFilterPart: BodyPart<string | undefined> = {
  schemas: () => ({ label: { type: "string", description: "Only return references with this label" } }),
  parse({ label }) {
    if (label !== undefined && typeof label !== "string") {
      throw new HttpError(422, "INVALID_ARGUMENT", '"label" must be a string');
    }
    return label;
  },
};

/** `input` or `vector` (exactly one): the query, as a checked vector (an input is encoded). */
export const queryPart: BodyPart<Float32Array> = {
  schemas: ({ model }) => ({ input: INPUT, vector: vectorSchema(model.dim) }),
  async parse(obj, ctx) {
    const hasV = obj.vector !== undefined;
    if (hasV === (obj.input !== undefined)) {
      throw new HttpError(422, "INVALID_ARGUMENT", 'request: give exactly one of "input" or "vector"');
    }
    if (hasV) return checkVector(obj.vector, "request.vector", ctx);
    checkInputs([obj.input], "request", ctx.model);
    const [v] = await encodeChecked([obj.input], ctx, () => 'request: the embedding of "input"');
    return v;
  },
};

/** `inputs`: raw inputs to embed, 1 to `maxItems`, each accepted by the model's check. */
export const inputsPart: BodyPart<unknown[]> = {
  schemas: ({ limits }) => ({ inputs: { type: "array", items: INPUT, minItems: 1, maxItems: limits.maxItems } }),
  required: ["inputs"],
  parse({ inputs }, { limits, model }) {
    const list = checkList(inputs, "inputs", "inputs", limits.maxItems);
    checkInputs(list, "inputs", model);
    return list;
  },
};

const ID_MAX = 256;

/**
 * `items`: references to put, 1 to `maxItems`, each with a unique `id`, a `label`, an optional
 * `payload` within the payload limits, and exactly one of `input` or `vector`. Everything is
 * checked before anything is encoded; the result is the items with their vectors.
 */
export const itemsPart: BodyPart<ReferenceItem[]> = {
  schemas: ({ model, limits }) => ({
    items: {
      type: "array",
      minItems: 1,
      maxItems: limits.maxItems,
      items: {
        type: "object",
        properties: {
          id: { type: "string", minLength: 1, maxLength: ID_MAX },
          label: { type: "string", minLength: 1 },
          payload: { description: `Any JSON, at most ${limits.maxPayloadBytes} bytes, ${limits.maxPayloadDepth} deep` },
          input: INPUT,
          vector: vectorSchema(model.dim),
        },
        required: ["id", "label"],
      },
    },
  }),
  required: ["items"],
  async parse(body, ctx) {
    const { limits } = ctx;
    const raw = checkList(body.items, "items", "items", limits.maxItems);
    const seen = new Set<string>();
    const toEncode: { at: number; input: unknown }[] = [];
    const items: (ReferenceItem | undefined)[] = [];
    for (let i = 0; i < raw.length; i++) {
      const it = raw[i] as Record<string, unknown>;
      if (!it || typeof it !== "object") throw new HttpError(422, "INVALID_ARGUMENT", `items[${i}] must be an object`);
      if (typeof it.id !== "string" || it.id.length === 0 || it.id.length > ID_MAX) {
        throw new HttpError(
          422,
          "INVALID_ARGUMENT",
          `items[${i}].id must be a non-empty string of at most ${ID_MAX} characters`,
        );
      }
      if (hasLoneSurrogate(it.id)) {
        throw new HttpError(
          422,
          "INVALID_ARGUMENT",
          `items[${i}].id is not well-formed UTF-16 (a lone surrogate); it could never be read back or deleted`,
        );
      }
      if (seen.has(it.id)) throw new HttpError(422, "INVALID_ARGUMENT", `items[${i}].id "${it.id}" appears twice`);
      seen.add(it.id);
      if (typeof it.label !== "string" || it.label.length === 0) {
        throw new HttpError(422, "INVALID_ARGUMENT", `items[${i}].label must be a non-empty string`);
      }
      if (hasLoneSurrogate(it.label)) {
        throw new HttpError(422, "INVALID_ARGUMENT", `items[${i}].label is not well-formed UTF-16 (a lone surrogate)`);
      }
      if (it.payload !== undefined) {
        if (jsonDepth(it.payload, limits.maxPayloadDepth) > limits.maxPayloadDepth) {
          throw new HttpError(
            422,
            "INVALID_ARGUMENT",
            `items[${i}].payload is nested deeper than ${limits.maxPayloadDepth} levels`,
          );
        }
        const bytes = new TextEncoder().encode(JSON.stringify(it.payload)).length;
        if (bytes > limits.maxPayloadBytes) {
          throw new HttpError(
            413,
            "TOO_LARGE",
            `items[${i}].payload is ${bytes} bytes of JSON; the limit is ${limits.maxPayloadBytes} per item`,
          );
        }
      }
      const hasV = it.vector !== undefined;
      if (hasV === (it.input !== undefined)) {
        throw new HttpError(422, "INVALID_ARGUMENT", `items[${i}]: give exactly one of "input" or "vector"`);
      }
      if (hasV) {
        items.push({
          id: it.id,
          label: it.label,
          vector: checkVector(it.vector, `items[${i}].vector`, ctx),
          payload: it.payload,
        });
      } else {
        checkInputs([it.input], `items[${i}]`, ctx.model);
        toEncode.push({ at: i, input: it.input });
        items.push(undefined);
      }
    }
    if (toEncode.length) {
      const vs = await encodeChecked(
        toEncode.map((t) => t.input),
        ctx,
        (j) => `the embedding of items[${toEncode[j].at}].input`,
      );
      toEncode.forEach((t, j) => {
        const it = raw[t.at] as Record<string, unknown>;
        items[t.at] = { id: it.id as string, label: it.label as string, vector: vs[j], payload: it.payload };
      });
    }
    return items as ReferenceItem[];
  },
};
