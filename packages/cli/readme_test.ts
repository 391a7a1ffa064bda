import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { MINER_REGISTRY } from "@likeness/miners";
import { ENCODERS, HEADS } from "./components.ts";

/** The backticked names at the top level of one row of the README's config table (parenthesised detail left out). */
function row(section: string): string[] {
  const readme = readFileSync(new URL("./README.md", import.meta.url), "utf8");
  const line = readme.split("\n").find((l) => l.startsWith(`| \`${section}\``));
  assert.ok(line, `README has a "${section}" row`);
  const values = line.split("|")[2];
  let depth = 0;
  let top = "";
  for (const ch of values) {
    if (ch === "(") depth++;
    else if (ch === ")") depth--;
    else if (depth === 0) top += ch;
  }
  return [...top.matchAll(/`([^`]+)`/g)].map((m) => m[1]).filter((n) => n !== "params");
}

test("the README's head, miner and encoder lists are the declared ones", () => {
  assert.deepEqual(row("head").sort(), Object.keys(HEADS).sort());
  assert.deepEqual(row("miner").sort(), MINER_REGISTRY.names().sort());
  assert.deepEqual(row("encoder").sort(), Object.keys(ENCODERS).sort());
});
