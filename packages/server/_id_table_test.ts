import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng } from "@likeness/core";
import { IdTable } from "./_id_table.ts";

test("IdTable: random sets, updates and deletes agree with a Map (growth and tombstones included)", () => {
  const rng = createRng(3);
  const t = new IdTable();
  const m = new Map<string, number>();
  const key = () => `k${Math.floor(rng.next() * 3000)}${rng.next() < 0.1 ? "日🙂" : ""}`;
  for (let step = 0; step < 40_000; step++) {
    const k = key();
    const r = rng.next();
    if (r < 0.55) {
      const v = Math.floor(rng.next() * 2 ** 31);
      t.set(k, v);
      m.set(k, v);
    } else if (r < 0.85) assert.equal(t.delete(k), m.delete(k), `delete ${k} at step ${step}`);
    else assert.equal(t.get(k), m.get(k), `get ${k} at step ${step}`);
    assert.equal(t.size, m.size);
  }
  for (const [k, v] of m) assert.equal(t.get(k), v);
  assert.equal(t.get("absent"), undefined);
  assert.equal(new IdTable(1_000).get(""), undefined);
});
