import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { createBackend } from "@likeness/backend";
import { createApp, FileStore, serveFetch, vectorOnlyModel } from "@likeness/server";
import { tempDir, trigramModel } from "./_test_util.ts";

const { backend } = await createBackend({ prefer: "wasm-simd", tf: false });

async function start(dir: string, opts: { token?: string; dim?: number; text?: boolean } = {}) {
  const model = opts.text ? trigramModel(16) : vectorOnlyModel(opts.dim ?? 4, { threshold: 0.9 });
  const store = new FileStore(dir);
  const made = await createApp({
    model,
    store,
    backend,
    auth: { token: opts.token },
    limits: { maxBodyBytes: 4096, maxItems: 8, maxK: 20 },
  });
  const server = await serveFetch(made.app.fetch, { port: 0 });
  const base = `http://127.0.0.1:${server.port}`;
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(base + path, {
      method,
      headers: { "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    const isJson = (res.headers.get("content-type") ?? "").includes("json");
    return { status: res.status, json: text && isJson ? JSON.parse(text) : null, text };
  };
  return {
    call,
    store,
    index: made.index,
    async stop() {
      await server.close();
      await made.close();
    },
  };
}

test("server: hot-add, search, classify, get, delete over real HTTP", async () => {
  const s = await start(tempDir(), { token: "s3cret" });
  const auth = { authorization: "Bearer s3cret" };
  try {
    let r = await s.call("POST", "/v1/references", {
      items: [
        { id: "a", vector: [1, 0, 0, 0], label: "x", payload: { n: 1 } },
        { id: "b", vector: [0.9, 0.1, 0, 0], label: "x" },
        { id: "c", vector: [0, 0, 1, 0], label: "y" },
      ],
    }, auth);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { added: 3, updated: 0 });
    r = await s.call("POST", "/v1/references", {
      items: [{ id: "a", vector: [1, 0, 0, 0], label: "x", payload: { n: 2 } }],
    }, auth);
    assert.deepEqual(r.json, { added: 0, updated: 1 }, "idempotent by id");

    r = await s.call("POST", "/v1/search", { vector: [1, 0, 0, 0], k: 2 });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.results.map((h: { id: string }) => h.id), ["a", "b"]);
    assert.ok(Math.abs(r.json.results[0].score - 1) < 1e-6);
    assert.deepEqual(r.json.results[0].payload, { n: 2 });

    r = await s.call("POST", "/v1/search", { vector: [1, 0, 0, 0], k: 5, label: "y" });
    assert.deepEqual(r.json.results.map((h: { id: string }) => h.id), ["c"]);

    r = await s.call("POST", "/v1/classify", { vector: [0.95, 0.05, 0, 0] });
    assert.equal(r.json.label, "x");
    r = await s.call("POST", "/v1/classify", { vector: [0, 1, 0, 0] });
    assert.equal(r.json.label, null, "open set: nearest match below the calibrated threshold");

    r = await s.call("GET", "/v1/references/a");
    assert.deepEqual(r.json, { id: "a", label: "x", payload: { n: 2 } });
    r = await s.call("DELETE", "/v1/references/a", undefined, auth);
    assert.equal(r.status, 204);
    r = await s.call("DELETE", "/v1/references/a", undefined, auth);
    assert.equal(r.status, 404);
    r = await s.call("GET", "/v1/references/a");
    assert.equal(r.status, 404);
    r = await s.call("POST", "/v1/search", { vector: [1, 0, 0, 0], k: 3 });
    assert.deepEqual(r.json.results.map((h: { id: string }) => h.id), ["b", "c"]);

    r = await s.call("GET", "/v1/health");
    assert.equal(r.json.status, "ok");
    assert.equal(r.json.references, 2);
    assert.equal(r.json.backend, backend.info.name);
    r = await s.call("GET", "/metrics");
    assert.match(r.text, /likeness_references 2/);
    assert.match(r.text, /likeness_requests_total\{method="POST",route="\/v1\/search",status="200"\} 3/);
    r = await s.call("GET", "/v1/openapi.json");
    assert.equal(r.json.openapi, "3.1.0");
  } finally {
    await s.stop();
  }
});

test("server: text model embeds inputs and hot-adds a new class without restart", async () => {
  const s = await start(tempDir(), { text: true });
  try {
    let r = await s.call("POST", "/v1/embed", { inputs: ["hello world", "hello world"] });
    assert.equal(r.json.dim, 16);
    assert.deepEqual(r.json.embeddings[0], r.json.embeddings[1]);
    r = await s.call("POST", "/v1/references", {
      items: [{ id: "1", input: "the cat sat on the mat", label: "cats" }, {
        id: "2",
        input: "stock prices fell",
        label: "finance",
      }],
    });
    assert.deepEqual(r.json, { added: 2, updated: 0 });
    r = await s.call("POST", "/v1/classify", { input: "a cat on a mat" });
    assert.equal(r.json.label, "cats");
    r = await s.call("POST", "/v1/references", {
      items: [{ id: "3", input: "rain and thunderstorms today", label: "weather" }],
    });
    r = await s.call("POST", "/v1/classify", { input: "thunderstorms and rain" });
    assert.equal(r.json.label, "weather");
  } finally {
    await s.stop();
  }
});

test("server: bad requests give 4xx with a code and never change the store", async () => {
  const dir = tempDir();
  const s = await start(dir, { token: "t0k" });
  const auth = { authorization: "Bearer t0k" };
  try {
    await s.call("POST", "/v1/references", { items: [{ id: "keep", vector: [1, 0, 0, 0], label: "x" }] }, auth);
    const wal = join(dir, "wal.log");
    const before = readFileSync(wal);
    const cases: [string, string, unknown, Record<string, string>, number, string][] = [
      ["POST", "/v1/references", "{not json", auth, 400, "MALFORMED_JSON"],
      ["POST", "/v1/references", { items: [{ id: "n", vector: [1, 0, 0], label: "x" }] }, auth, 422, "SHAPE_MISMATCH"],
      [
        "POST",
        "/v1/references",
        { items: [{ id: "n", vector: [1, 0, 0, "NaN"], label: "x" }] },
        auth,
        422,
        "NON_FINITE",
      ],
      ["POST", "/v1/references", { items: [{ id: "n", vector: [1, 0, 0, 0], label: "x" }] }, {}, 401, "UNAUTHORIZED"],
      [
        "POST",
        "/v1/references",
        { items: [{ id: "n", vector: [1, 0, 0, 0], label: "x" }] },
        { authorization: "Bearer nope" },
        401,
        "UNAUTHORIZED",
      ],
      [
        "POST",
        "/v1/references",
        { items: Array.from({ length: 9 }, (_, i) => ({ id: `${i}`, vector: [1, 0, 0, 0], label: "x" })) },
        auth,
        413,
        "TOO_LARGE",
      ],
      ["POST", "/v1/references", "x".repeat(5000), auth, 413, "TOO_LARGE"],
      [
        "POST",
        "/v1/references",
        { items: [{ id: "ok", vector: [1, 0, 0, 0], label: "x" }, { id: "bad", vector: [1], label: "x" }] },
        auth,
        422,
        "SHAPE_MISMATCH",
      ],
      ["POST", "/v1/references", { items: [] }, auth, 422, "INVALID_ARGUMENT"],
      ["POST", "/v1/references", [1, 2], auth, 400, "BAD_REQUEST"],
      ["DELETE", "/v1/references/missing", undefined, auth, 404, "NOT_FOUND"],
      ["DELETE", "/v1/references/keep", undefined, {}, 401, "UNAUTHORIZED"],
      ["POST", "/v1/search", { vector: [1, 0, 0, 0], k: 0 }, {}, 422, "INVALID_ARGUMENT"],
      ["POST", "/v1/search", { vector: [1, 0, 0, 0], k: 21 }, {}, 422, "K_TOO_LARGE"],
      ["POST", "/v1/search", { vector: [1, 0, 0, 0], input: "x" }, {}, 422, "INVALID_ARGUMENT"],
      ["POST", "/v1/search", { input: "text" }, {}, 422, "UNSUPPORTED"],
      ["POST", "/v1/classify", '{"vector":[1e999,0,0,0]}', {}, 422, "NON_FINITE"],
      ["GET", "/v1/nope", undefined, {}, 404, "NOT_FOUND"],
    ];
    for (const [method, path, body, headers, status, code] of cases) {
      const r = await s.call(method, path, body, headers);
      assert.equal(r.status, status, `${method} ${path} ${JSON.stringify(body)?.slice(0, 60)} → ${r.text}`);
      assert.equal(r.json.error.code, code, `${method} ${path}: ${r.text}`);
      assert.equal(typeof r.json.error.message, "string");
    }
    assert.deepEqual(readFileSync(wal), before, "the store is unchanged");
    assert.equal(s.index.size, 1);
  } finally {
    await s.stop();
  }
});

test("server: restart restores the index; a torn tail is dropped, never loaded", async () => {
  const dir = tempDir();
  let s = await start(dir);
  for (let i = 0; i < 5; i++) {
    await s.call("POST", "/v1/references", { items: [{ id: `id${i}`, vector: [i + 1, 1, 0, 0], label: `l${i % 2}` }] });
  }
  await s.call("DELETE", "/v1/references/id0");
  await s.stop();
  const wal = join(dir, "wal.log");
  const size = statSync(wal).size;
  // A write cut short by a crash: a valid header start with half a payload.
  appendFileSync(wal, new Uint8Array([0x31, 0x4e, 0x4b, 0x4c, 200, 0, 0, 0, 1, 2, 3, 4, 123, 34]));
  s = await start(dir);
  try {
    assert.equal(s.index.size, 4);
    assert.equal(s.store.tornBytes, 14);
    assert.equal(statSync(wal).size, size, "the torn tail was truncated");
    const r = await s.call("POST", "/v1/search", { vector: [4, 1, 0, 0], k: 1 });
    assert.equal(r.json.results[0].id, "id3");
  } finally {
    await s.stop();
  }
});

test("file store: compaction writes a snapshot and keeps every live item", async () => {
  const dir = tempDir();
  const store = new FileStore(dir, { compactBytes: 1 });
  const made = await createApp({ model: vectorOnlyModel(2), store, backend });
  try {
    const res = await made.app.request("/v1/references", {
      method: "POST",
      body: JSON.stringify({
        items: [{ id: "p", vector: [1, 2], label: "a" }, { id: "q", vector: [3, 4], label: "b" }],
      }),
    });
    assert.equal(res.status, 200);
    assert.equal(statSync(join(dir, "wal.log")).size, 0);
    assert.ok(statSync(join(dir, "snapshot.log")).size > 0);
  } finally {
    await made.close();
  }
  const again = new FileStore(dir);
  const items = await again.load();
  assert.deepEqual(items.map((i) => [i.id, Array.from(i.vector)]), [["p", [1, 2]], ["q", [3, 4]]]);
  await again.close();
});
