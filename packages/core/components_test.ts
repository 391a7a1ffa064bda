import { test } from "node:test";
import assert from "node:assert/strict";
import { ComponentError, ComponentRegistry, s, toJsonSchema } from "@likeness/core";

function shapes(): ComponentRegistry<{ kind: string; side: number }> {
  const reg = new ComponentRegistry<{ kind: string; side: number }>("shape");
  reg.register({
    name: "square",
    aliases: ["quad"],
    summary: "A square.",
    params: { side: s.positive(1), colour: s.enum("colour", ["red", "blue"], "red") },
    create: (p) => ({ kind: "square", side: (p.side as number | undefined) ?? 1 }),
  });
  reg.register({
    name: "strip",
    summary: "A strip of a given width.",
    params: { side: s.positiveInt() },
    required: ["side"],
    example: { side: 2 },
    create: (p) => ({ kind: "strip", side: p.side as number }),
  });
  return reg;
}

test("names, aliases, defaults and examples read from the declarations", () => {
  const reg = shapes();
  assert.deepEqual(reg.names(), ["square", "strip"]);
  assert.deepEqual(reg.allNames(), ["square", "strip", "quad"]);
  assert.equal(reg.get("quad").name, "square");
  assert.deepEqual(reg.defaults("square"), { side: 1, colour: "red" });
  assert.deepEqual(reg.defaults("strip"), { side: 2 });
  assert.deepEqual(reg.create("quad", { side: 3 }), { kind: "square", side: 3 });
  assert.equal(reg.schema("strip").fields.side.required, true);
});

test("unknown names and bad parameters are one ComponentError with a stable code and the valid names", () => {
  const reg = shapes();
  assert.throws(() => reg.create("sqare"), (e: unknown) => {
    assert.ok(e instanceof ComponentError && e instanceof TypeError);
    assert.equal(e.code, "UNKNOWN_NAME");
    assert.deepEqual(e.valid, ["square", "strip"]);
    assert.equal(e.message, 'Unknown shape "sqare"; did you mean "square"?: use one of square, strip');
    return true;
  });
  assert.throws(() => reg.create("strip", {}), (e: unknown) => {
    assert.ok(e instanceof ComponentError);
    assert.equal(e.code, "INVALID_ARGUMENT");
    assert.deepEqual(e.issues, [{ path: "params.side", message: "is required: a positive integer" }]);
    return true;
  });
  assert.throws(() => reg.create("square", { side: 0, colour: "green", size: 1 }), (e: unknown) => {
    assert.ok(e instanceof ComponentError);
    assert.deepEqual(e.issues.map((i) => i.path), ["params.side", "params.colour", "params.size"]);
    assert.deepEqual(e.valid, ["side", "colour"]);
    return true;
  });
  // Live objects named by the caller are passed through unchecked.
  assert.deepEqual(reg.create("strip", { side: 2, canvas: { live: true } }, ["canvas"]), { kind: "strip", side: 2 });
  assert.throws(
    () =>
      reg.register({ name: "bad", summary: "", params: {}, required: ["x"], create: () => ({ kind: "", side: 0 }) }),
    {
      code: "INVALID_ARGUMENT",
    },
  );
});

test("an open declaration checks only the parameters it declares", () => {
  const reg = new ComponentRegistry<Record<string, unknown>>("thing");
  reg.register({ name: "free", summary: "Anything.", params: { n: s.positiveInt() }, open: true, create: (p) => p });
  assert.deepEqual(reg.create("free", { n: 2, other: "x" }), { n: 2, other: "x" });
  assert.throws(() => reg.create("free", { n: 0 }), { code: "INVALID_ARGUMENT" });
  assert.deepEqual(reg.issues("free", { other: 1 }), []);
});

test("toJsonSchema writes types, ranges, enums, required keys, summaries and defaults", () => {
  const schema = s.object({
    "dim!": s.number({ integer: true, min: 1, max: 8 }),
    metric: { ...s.enum("metric", ["cosine", "l2"], "cosine"), summary: "How to compare." },
    sizes: s.array(s.positive(), { length: 2 }),
    on: s.boolean(true),
  });
  assert.deepEqual(toJsonSchema(schema), {
    type: "object",
    properties: {
      dim: { type: "integer", minimum: 1, maximum: 8 },
      metric: { enum: ["cosine", "l2"], description: "How to compare.", default: "cosine" },
      sizes: { type: "array", items: { type: "number", exclusiveMinimum: 0 }, minItems: 2, maxItems: 2 },
      on: { type: "boolean", default: true },
    },
    required: ["dim"],
    additionalProperties: false,
  });
});
