import { test } from "node:test";
import assert from "node:assert/strict";
import { readEnv } from "@likeness/backend";

test("readEnv reads an explicit record or getter and trims; empty means unset", () => {
  assert.equal(readEnv("LIKENESS_BACKEND", { LIKENESS_BACKEND: " wasm " }), "wasm");
  assert.equal(readEnv("LIKENESS_BACKEND", { LIKENESS_BACKEND: "" }), undefined);
  assert.equal(readEnv("LIKENESS_BACKEND", {}), undefined);
  assert.equal(readEnv("X", (n) => (n === "X" ? "js" : undefined)), "js");
});

test("readEnv never throws: a throwing source reads as unset", () => {
  assert.equal(
    readEnv("X", () => {
      throw new Error("permission denied");
    }),
    undefined,
  );
});

test("readEnv falls back to the runtime's environment", () => {
  const g = globalThis as { Deno?: { env: { get(n: string): string | undefined } } };
  const expected = g.Deno ? g.Deno.env.get("PATH") : (globalThis as { process?: { env: Record<string, string> } })
    .process?.env.PATH;
  assert.ok(expected && expected.length > 0);
  assert.equal(readEnv("PATH"), expected.trim());
  assert.equal(readEnv("LIKENESS_SURELY_UNSET_VARIABLE_42"), undefined);
});
