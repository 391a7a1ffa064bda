import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createBackend } from "@likeness/backend";
import {
  createApp,
  decodeSnapshot,
  encodeSnapshot,
  ReferenceIndex,
  SqliteStore,
  vectorOnlyModel,
} from "@likeness/server";
import { indexOf, snapshotOf } from "./main.ts";
import { listeningPort, tempDir } from "./_test_util.ts";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));
const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";

interface Server {
  child: ChildProcess;
  port: number;
  out: { log: string };
  exited: Promise<number | null>;
}

async function start(args: string[]): Promise<Server> {
  const child = spawn(process.execPath, [...(isBun ? ["run"] : ["run", "-A"]), MAIN, "--port", "0", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  const out = { log: "" };
  const port = await listeningPort(child, out);
  return { child, port, out, exited };
}

async function stop(s: Server, signal: NodeJS.Signals): Promise<void> {
  s.child.kill(signal);
  await s.exited;
}

const vec = (i: number, dim: number) =>
  Array.from({ length: dim }, (_, j) => Math.sin(i * 0.7 + j * 1.3) + (j === i % dim ? 1 : 0));

// deno-lint-ignore no-explicit-any -- response bodies of several shapes, read field by field
type Json = any;

async function call(s: Server, method: string, path: string, body?: unknown): Promise<{ status: number; json: Json }> {
  const res = await fetch(`http://127.0.0.1:${s.port}${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

async function put(s: Server, from: number, to: number, dim: number, tag = "") {
  const items = [];
  for (let i = from; i < to; i++) {
    items.push({ id: `r${i}`, label: `c${i % 4}`, vector: vec(i + tag.length * 1000, dim), payload: { i, tag } });
  }
  const r = await call(s, "POST", "/v1/references", { items });
  assert.equal(r.status, 200, JSON.stringify(r.json));
}

/** Results of a fixed set of searches (plain and label-filtered). */
async function results(s: Server, dim: number): Promise<unknown[]> {
  const out = [];
  for (let q = 0; q < 6; q++) {
    const body = { vector: vec(q * 37 + 5, dim), k: 7, ...(q % 2 ? { label: `c${q % 4}` } : {}) };
    const r = await call(s, "POST", "/v1/search", body);
    assert.equal(r.status, 200);
    out.push(r.json.results);
  }
  return out;
}

async function waitFor(f: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test("index snapshot: restart after SIGKILL with a snapshot and later writes loses nothing, same results", async () => {
  const dir = tempDir("likeness-snap-");
  const flags = ["--dim", "8", "--data", dir, "--backend", "js", "--snapshot-every", "50", "--snapshot-interval", "0"];
  const a = await start(flags);
  await put(a, 0, 60, 8);
  // The first snapshot (seq 0, written at start for the empty store), then the one after 50 changes.
  await waitFor(async () => (await call(a, "GET", "/v1/health")).json.index.snapshot?.seq >= 1, "snapshot");
  const snapSeq = (await call(a, "GET", "/v1/health")).json.index.snapshot.seq;
  // Later writes, not in the snapshot: new items, updates, deletes.
  await put(a, 60, 80, 8);
  await put(a, 10, 13, 8, "updated");
  for (const id of ["r1", "r2", "r61"]) assert.equal((await call(a, "DELETE", `/v1/references/${id}`)).status, 204);
  const before = await results(a, 8);
  assert.equal((await call(a, "GET", "/v1/health")).json.references, 77);
  await stop(a, "SIGKILL");

  const b = await start(flags);
  try {
    const h = (await call(b, "GET", "/v1/health")).json;
    assert.equal(h.index.opened.source, "snapshot", b.out.log);
    assert.ok(h.index.opened.applied > 0, `applied ${h.index.opened.applied} later changes`);
    assert.ok(snapSeq >= 1);
    assert.match(b.out.log, /index opened from its snapshot plus \d+ later change/);
    assert.equal(h.references, 77);
    assert.deepEqual(await results(b, 8), before);
    assert.equal((await call(b, "GET", "/v1/references/r1")).status, 404);
    assert.equal((await call(b, "GET", "/v1/references/r61")).status, 404);
    assert.deepEqual((await call(b, "GET", "/v1/references/r11")).json.payload, { i: 11, tag: "updated" });
    assert.deepEqual((await call(b, "GET", "/v1/references/r70")).json.payload, { i: 70, tag: "" });
    // Writes after the restart continue the store's numbering and are searchable.
    await put(b, 100, 101, 8);
    assert.equal((await call(b, "GET", "/v1/health")).json.references, 78);
  } finally {
    await stop(b, "SIGTERM");
  }
});

test("index snapshot: flipped bytes are detected, the server loads from the store (same results) and rewrites it", async () => {
  const dir = tempDir("likeness-snap-");
  const flags = ["--dim", "8", "--data", dir, "--backend", "js"];
  const a = await start(flags);
  await put(a, 0, 90, 8);
  const before = await results(a, 8);
  await stop(a, "SIGTERM"); // clean shutdown writes the snapshot
  const path = join(dir, "likeness.index");
  assert.ok(existsSync(path));
  const good = readFileSync(path);
  assert.equal(decodeSnapshot(new Uint8Array(good)).seq, 1);
  for (const at of [Math.floor(good.length / 2), good.length - 100, 40]) {
    const bad = new Uint8Array(good);
    bad[at] ^= 0x5a;
    writeFileSync(path, bad);
    const b = await start(flags);
    try {
      const h = (await call(b, "GET", "/v1/health")).json;
      assert.equal(h.index.opened.source, "store", `flip at ${at}: ${b.out.log}`);
      assert.match(b.out.log, /index snapshot .* not used \(.*(checksum|damaged).*\)/);
      assert.deepEqual(await results(b, 8), before);
      // Rewritten at once (no usable snapshot): the next start uses it.
      await waitFor(async () => (await call(b, "GET", "/v1/health")).json.index.snapshot?.seq === 1, "rewrite");
    } finally {
      await stop(b, "SIGKILL");
    }
    const c = await start(flags);
    try {
      assert.equal((await call(c, "GET", "/v1/health")).json.index.opened.source, "snapshot", c.out.log);
      assert.deepEqual(await results(c, 8), before);
    } finally {
      await stop(c, "SIGKILL");
    }
  }
  // Truncated: also refused.
  writeFileSync(path, good.subarray(0, good.length - 7));
  const d = await start(flags);
  try {
    assert.equal((await call(d, "GET", "/v1/health")).json.index.opened.source, "store");
    assert.deepEqual(await results(d, 8), before);
  } finally {
    await stop(d, "SIGKILL");
  }
});

test("index snapshot: one of another dimension or another store is refused, the store is loaded instead", async () => {
  const a8 = tempDir("likeness-snap-"), b4 = tempDir("likeness-snap-"), c8 = tempDir("likeness-snap-");
  const s8 = await start(["--dim", "8", "--data", a8, "--backend", "js"]);
  await put(s8, 0, 20, 8);
  await stop(s8, "SIGTERM");
  const s4 = await start(["--dim", "4", "--data", b4, "--backend", "js"]);
  await put(s4, 0, 20, 4);
  const before4 = await results(s4, 4);
  await stop(s4, "SIGTERM");
  copyFileSync(join(a8, "likeness.index"), join(b4, "likeness.index"));
  const r4 = await start(["--dim", "4", "--data", b4, "--backend", "js"]);
  try {
    assert.equal((await call(r4, "GET", "/v1/health")).json.index.opened.source, "store");
    assert.match(r4.out.log, /not used \(it holds 8-dimensional vectors, the store 4\)/);
    assert.deepEqual(await results(r4, 4), before4);
  } finally {
    await stop(r4, "SIGKILL");
  }
  // Same dimension, another store (other data under the same seq numbers).
  const s8b = await start(["--dim", "8", "--data", c8, "--backend", "js"]);
  await put(s8b, 0, 20, 8, "other");
  const before8 = await results(s8b, 8);
  await stop(s8b, "SIGKILL");
  copyFileSync(join(a8, "likeness.index"), join(c8, "likeness.index"));
  const r8 = await start(["--dim", "8", "--data", c8, "--backend", "js"]);
  try {
    assert.equal((await call(r8, "GET", "/v1/health")).json.index.opened.source, "store");
    assert.match(r8.out.log, /taken from another store/);
    assert.deepEqual(await results(r8, 8), before8);
  } finally {
    await stop(r8, "SIGKILL");
  }
});

test("index snapshot: one ahead of the store (a store restored from a backup) is refused", async () => {
  const dir = tempDir("likeness-snap-");
  const db = join(dir, "likeness.db");
  const { backend } = await createBackend({ prefer: "js", tf: false });
  const model = vectorOnlyModel(4);
  const snapshot = { path: join(dir, "likeness.index"), intervalMs: 0 };
  const item = (i: number) => ({ id: `x${i}`, label: `l${i % 2}`, vector: Float32Array.from(vec(i, 4)) });
  let store = await SqliteStore.open(db, { dim: 4 });
  let made = await createApp({ model, store, backend, snapshot });
  await store.write({ put: [item(0), item(1)] });
  made.index.upsert([item(0), item(1)]);
  await made.close();
  copyFileSync(db, join(dir, "backup.db")); // batch 1
  store = await SqliteStore.open(db, { dim: 4 });
  made = await createApp({ model, store, backend, snapshot });
  assert.equal(made.opened.source, "snapshot");
  await store.write({ put: [item(2)] });
  made.index.upsert([item(2)]);
  made.snapshots!.changed(1);
  await made.close(); // snapshot at batch 2
  assert.equal(decodeSnapshot(new Uint8Array(readFileSync(snapshot.path))).seq, 2);
  // The operator restores batch 1 (and, as the store asks, removes its batch record).
  copyFileSync(join(dir, "backup.db"), db);
  rmSync(`${db}-wal`, { force: true });
  rmSync(`${db}.seq`, { force: true });
  const lines: string[] = [];
  const log = console.error;
  console.error = (l: string) => lines.push(l);
  try {
    store = await SqliteStore.open(db, { dim: 4 });
    made = await createApp({ model, store, backend, snapshot });
  } finally {
    console.error = log;
  }
  assert.equal(made.opened.source, "store");
  assert.match(lines.join("\n"), /holds batch 2 but the store ends at batch 1/);
  assert.equal(made.index.size, 2);
  assert.equal(made.index.get("x2"), undefined);
  await made.close();
  backend.dispose();
});

test("serve --index hnsw --threads 2: the graph is built on 2 threads, at start and on a restart from its snapshot", async () => {
  const dir = tempDir("likeness-snap-");
  const flags = ["--dim", "16", "--data", dir, "--index", "hnsw", "--hnsw-m", "8", "--threads", "2"];
  const a = await start(flags);
  for (let i = 0; i < 400; i += 200) await put(a, i, i + 200, 16); // 200-row adds: threaded (≥ 64 rows)
  const h = (await call(a, "GET", "/v1/health")).json;
  assert.equal(h.index.size, 400);
  assert.match(h.index.detail, /graph built on 2 threads/);
  const before = await results(a, 16);
  await stop(a, "SIGTERM");
  const b = await start(flags);
  try {
    const h2 = (await call(b, "GET", "/v1/health")).json;
    assert.equal(h2.index.opened.source, "snapshot", b.out.log);
    assert.match(h2.index.detail, /graph built on 2 threads/);
    assert.deepEqual(await results(b, 16), before);
    await put(b, 400, 600, 16); // a threaded add on the loaded graph
    assert.equal((await call(b, "GET", "/v1/health")).json.index.size, 600);
    assert.match(h2.index.detail, /batches searched across 2 threads/);
  } finally {
    await stop(b, "SIGTERM");
  }
  // The same float32 snapshot walked on int8 codes: still loaded from the snapshot (the graph is the same).
  const c = await start([...flags, "--hnsw-codes", "int8"]);
  try {
    const h3 = (await call(c, "GET", "/v1/health")).json;
    assert.equal(h3.index.opened.source, "snapshot", c.out.log);
    assert.match(h3.index.detail, /walk on int8 codes/);
    assert.equal(h3.index.size, 600);
    assert.equal((await results(c, 16)).length, before.length);
  } finally {
    await stop(c, "SIGKILL");
  }
});

test("serve --index hnsw: a restart loads the saved graph (no rebuild) and gives identical results", async () => {
  const dir = tempDir("likeness-snap-");
  const flags = ["--dim", "16", "--data", dir, "--index", "hnsw", "--hnsw-m", "8", "--hnsw-ef-construction", "40"];
  const a = await start(flags);
  for (let i = 0; i < 400; i += 100) await put(a, i, i + 100, 16);
  assert.equal((await call(a, "DELETE", "/v1/references/r7")).status, 204);
  const h = (await call(a, "GET", "/v1/health")).json;
  assert.equal(h.index.kind, "hnsw");
  assert.equal(h.index.size, 399);
  assert.equal(h.index.params.M, 8);
  assert.equal(h.index.params.efConstruction, 40);
  assert.ok(h.index.memoryBytes > 400 * 16 * 4);
  const metrics = await (await fetch(`http://127.0.0.1:${a.port}/metrics`)).text();
  assert.match(metrics, /likeness_index_kind\{kind="hnsw"\} 1/);
  assert.match(metrics, /likeness_index_memory_bytes [1-9]\d+/);
  const before = await results(a, 16);
  await stop(a, "SIGTERM");
  const b = await start(flags);
  try {
    const h2 = (await call(b, "GET", "/v1/health")).json;
    assert.equal(h2.index.opened.source, "snapshot", b.out.log);
    assert.equal(h2.index.opened.applied, 0);
    assert.equal(h2.index.kind, "hnsw");
    assert.deepEqual(await results(b, 16), before);
  } finally {
    await stop(b, "SIGKILL");
  }
  // Other graph parameters: the saved graph is not used (it would be another graph).
  const c = await start(["--dim", "16", "--data", dir, "--index", "hnsw", "--hnsw-m", "12"]);
  try {
    assert.equal((await call(c, "GET", "/v1/health")).json.index.opened.source, "store");
    assert.match(c.out.log, /hnsw parameters/);
  } finally {
    await stop(c, "SIGKILL");
  }
});

test("serve --index: an unknown kind or a bad HNSW parameter stops start-up with exit 1", async () => {
  for (
    const [args, msg] of [
      [["--index", "ivf"], /--index must be one of flat, int8, binary, hnsw, got "ivf"/],
      [["--index", "hnsw", "--hnsw-m", "1"], /--hnsw-m must be an integer from 2 to 128/],
      [["--hnsw-ef-search", "10"], /applies to --index hnsw only/],
      [["--index", "hnsw", "--hnsw-codes", "int4"], /--hnsw-codes must be float32 or int8/],
      [["--snapshot", "maybe"], /--snapshot must be on or off/],
    ] as const
  ) {
    const child = spawn(
      process.execPath,
      [...(isBun ? ["run"] : ["run", "-A"]), MAIN, "--dim", "4", "--data", tempDir(), "--port", "0", ...args],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let err = "";
    child.stderr!.on("data", (d) => err += d);
    child.stdout!.on("data", (d) => err += d);
    const code = await new Promise((r) => child.on("close", r));
    assert.equal(code, 1, err);
    assert.match(err, msg);
  }
  assert.deepEqual(indexOf({}), { kind: "flat" });
  assert.deepEqual(indexOf({ index: "hnsw", "hnsw-ef-search": "80" }), { kind: "hnsw", hnsw: { efSearch: 80 } });
  assert.deepEqual(indexOf({ index: "hnsw", "hnsw-codes": "int8" }), { kind: "hnsw", hnsw: { codes: "int8" } });
  assert.deepEqual(snapshotOf({ "snapshot-every": "5", "snapshot-interval": "1.5" }, "/d"), {
    path: join("/d", "likeness.index"),
    everyChanges: 5,
    intervalMs: 1500,
  });
  assert.equal(snapshotOf({ snapshot: "off" }, "/d"), undefined);
});

test("index snapshot: encode/decode round trip keeps ids, labels, rows and payloads", () => {
  const state = {
    rows: 9,
    dead: 2,
    labels: ["a", "β"],
    liveRows: Int32Array.of(0, 3, 8),
    labelIds: Int32Array.of(1, 0, 1),
    ids: ["x", "日本語", "z🙂"],
    payloads: [[1, { n: 1 }]] as [number, unknown][],
  };
  const parts = encodeSnapshot(42, 3, "u1", { kind: "flat" }, state, Uint8Array.of(9, 8, 7));
  const bytes = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  const d = decodeSnapshot(bytes);
  assert.equal(d.seq, 42);
  assert.equal(d.dim, 3);
  assert.equal(d.uid, "u1");
  assert.deepEqual(d.state, state);
  assert.deepEqual([...d.index], [9, 8, 7]);
  for (const flip of [1, 20, 30, 40]) {
    const bad = bytes.slice();
    bad[flip] ^= 1;
    assert.throws(() => decodeSnapshot(bad), (e: { code?: string }) => e.code === "CORRUPT", `flip at ${flip}`);
  }
  assert.throws(() => decodeSnapshot(bytes.subarray(0, 40)), (e: { code?: string }) => e.code === "CORRUPT");
});

test("serve: int8 and binary index kinds answer searches and report their kind", async () => {
  const { backend } = await createBackend({ tf: false });
  for (const kind of ["int8", "binary"] as const) {
    const { MemoryStore } = await import("@likeness/server");
    const items = Array.from({ length: 200 }, (_, i) => ({
      id: `r${i}`,
      label: `c${i % 3}`,
      vector: Float32Array.from(vec(i, 8)),
    }));
    const made = await createApp({
      model: vectorOnlyModel(8),
      store: new MemoryStore(items),
      backend,
      index: { kind },
    });
    const h = await (await made.app.request("/v1/health")).json();
    assert.equal(h.index.kind, kind);
    assert.equal(h.index.size, 200);
    const res = await made.app.request("/v1/search", {
      method: "POST",
      body: JSON.stringify({ vector: vec(17, 8), k: 3 }),
    });
    const body = await res.json();
    assert.equal(body.results[0].id, "r17");
    await made.close();
  }
  // The index options are validated where the index is made.
  assert.throws(() => new ReferenceIndex(4, { kind: "ivf" as "flat" }), /Unknown index kind "ivf"/);
  backend.dispose();
});

test("snapshot writer: a failing write is reported, keeps its changes pending and is not retried in a loop", async () => {
  const dir = tempDir("likeness-snap-");
  const store = await SqliteStore.open(join(dir, "likeness.db"), { dim: 2 });
  await store.load();
  await store.write({ put: [{ id: "a", label: "x", vector: Float32Array.of(1, 0) }] });
  const index = new ReferenceIndex(2);
  index.upsert([{ id: "a", label: "x", vector: Float32Array.of(1, 0) }]);
  const lines: string[] = [];
  const { SnapshotWriter } = await import("@likeness/server");
  const w = new SnapshotWriter({
    path: join(dir, "no-such-dir", "likeness.index"),
    index,
    store,
    everyChanges: 1,
    intervalMs: 0,
    log: (l) => lines.push(l),
  });
  assert.equal(w.enabled, true);
  w.changed(1);
  await new Promise((r) => setTimeout(r, 200));
  for (let i = 0; i < 5; i++) w.changed(1);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(lines.length, 1, lines.join("\n"));
  assert.match(lines[0], /writing the index snapshot .* failed/);
  assert.equal(w.status().pendingChanges, 6);
  assert.match(w.status().error ?? "", /ENOENT|No such file/i);
  assert.equal(w.status().seq, undefined);
  await w.close();
  index.dispose();
  await store.close();
});
