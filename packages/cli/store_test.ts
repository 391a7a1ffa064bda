import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStore, SqliteStore } from "@likeness/server";
import { main as serve } from "@likeness/server/main";
import { runCli } from "./cli.ts";

async function cli(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

test("likeness store migrate copies a log written by FileStore into SQLite, which serve then reads", async () => {
  const dir = mkdtempSync(join(tmpdir(), "likeness-migrate-"));
  const old = join(dir, "data");
  // Today's FileStore: puts, an update, a delete, a compaction (snapshot), more writes, a torn tail.
  const fs = new FileStore(old, { compactBytes: 600 });
  await fs.load();
  const v = (i: number) => Float32Array.from({ length: 4 }, (_, k) => Math.fround(Math.sin(i + k)));
  for (let i = 0; i < 6; i++) {
    await fs.write({ put: [{ id: `i${i}`, label: `l${i % 2}`, vector: v(i), payload: { i } }] });
  }
  await fs.compact([0, 1, 2, 3, 4, 5].map((i) => ({ id: `i${i}`, label: `l${i % 2}`, vector: v(i), payload: { i } })));
  await fs.write({ put: [{ id: "i1", label: "changed", vector: v(10) }], delete: ["i2"] });
  await fs.write({ put: [{ id: "\u00e9t\u00e9", label: "l0", vector: v(7), payload: { deep: [{ a: null }] } }] });
  await fs.close();
  const walBefore = readFileSync(join(old, "wal.log"));
  appendFileSync(join(old, "wal.log"), new Uint8Array([0x31, 0x4e, 0x4b, 0x4c, 9, 0, 0]));

  // serve refuses the unmigrated directory and names the command.
  await assert.rejects(() => serve(["--dim", "4", "--data", old, "--port", "0", "--backend", "js"]), /store migrate/);
  let r = await cli(["store", "migrate", "--from", old]);
  assert.equal(r.code, 2);
  const to = join(old, "likeness.db");
  r = await cli(["store", "migrate", "--from", old, "--to", to]);
  assert.equal(r.code, 0, r.err.join("\n"));
  assert.match(r.out[0], /^migrated 6 references \(4-d\) .*torn tail of 7 bytes/);
  assert.equal(readFileSync(join(old, "wal.log")).length, walBefore.length + 7, "the old log is left as it was");
  r = await cli(["store", "migrate", "--from", old, "--to", to]);
  assert.equal(r.code, 1, "never into a file that already holds references");
  assert.match(r.err[0], /CONFLICT/);

  const s = await SqliteStore.open(to);
  const got = new Map((await s.load()).map((i) => [i.id, i]));
  await s.close();
  assert.deepEqual([...got.keys()].sort(), ["i0", "i1", "i3", "i4", "i5", "\u00e9t\u00e9"]);
  assert.equal(got.get("i1")!.label, "changed");
  assert.deepEqual(Array.from(got.get("i4")!.vector), Array.from(v(4)));
  assert.deepEqual(got.get("\u00e9t\u00e9")!.payload, { deep: [{ a: null }] });

  const running = await serve(["--dim", "4", "--data", old, "--port", "0", "--backend", "js"]);
  try {
    const res = await fetch(`http://127.0.0.1:${running!.port}/v1/references/i3`);
    assert.deepEqual(await res.json(), { id: "i3", label: "l1", payload: { i: 3 } });
  } finally {
    await running!.stop();
  }
});
