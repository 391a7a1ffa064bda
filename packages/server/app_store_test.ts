import { test } from "node:test";
import assert from "node:assert/strict";
import { LikenessError } from "@likeness/core";
import { createBackend } from "@likeness/backend";
import {
  createApp,
  MemoryStore,
  type StoreHealth,
  type StoreWrite,
  type StoreWriteResult,
  vectorOnlyModel,
} from "@likeness/server";

const { backend } = await createBackend({ prefer: "js", tf: false });

/** A store whose writes can be made to fail as a full disk would, and that replays other writers' batches. */
class SwitchStore extends MemoryStore {
  full = false;
  readOnly = false;
  writes: StoreWrite[] = [];
  listeners: ((w: StoreWrite) => void)[] = [];
  override write(w: StoreWrite): Promise<StoreWriteResult> {
    if (this.full) return Promise.reject(new LikenessError("STORAGE_FULL", "disk full: no space for the write"));
    this.writes.push(w);
    return super.write(w);
  }
  watch(onChange: (w: StoreWrite) => void): () => void {
    this.listeners.push(onChange);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== onChange);
    };
  }
  health(): StoreHealth {
    return this.full
      ? { status: "degraded", detail: "disk full", readOnly: this.readOnly }
      : { status: "ok", readOnly: this.readOnly };
  }
}

const post = (items: unknown[]) => ({ method: "POST", body: JSON.stringify({ items }) });

test("app: a write failing with a full disk answers 507, changes nothing, and health says degraded", async () => {
  const store = new SwitchStore();
  const { app, index, close } = await createApp({ model: vectorOnlyModel(2), store, backend });
  try {
    assert.equal((await app.request("/v1/references", post([{ id: "a", label: "x", vector: [1, 0] }]))).status, 200);
    store.full = true;
    const r = await app.request("/v1/references", post([{ id: "b", label: "x", vector: [0, 1] }]));
    assert.equal(r.status, 507);
    assert.equal((await r.json()).error.code, "STORAGE_FULL");
    assert.equal((await app.request("/v1/references/a", { method: "DELETE" })).status, 507);
    assert.equal(index.size, 1);
    assert.ok(index.get("a"), "the failed delete left the item");
    assert.equal(index.get("b"), undefined, "the failed put is not visible");
    const h = await (await app.request("/v1/health")).json();
    assert.equal(h.status, "degraded");
    assert.equal(h.detail, "disk full");
    store.full = false;
    assert.equal((await (await app.request("/v1/health")).json()).status, "ok");
  } finally {
    await close();
  }
});

test("app: changes from other writers (watch) reach the index; a read-only store refuses writes", async () => {
  const store = new SwitchStore();
  const { app, index, close } = await createApp({ model: vectorOnlyModel(2), store, backend });
  try {
    assert.equal(store.listeners.length, 1);
    store.listeners[0]({ put: [{ id: "r", label: "y", vector: new Float32Array([0, 1]) }] });
    store.listeners[0]({ put: [{ id: "bad", label: "y", vector: new Float32Array([Infinity, 1]) }] });
    const s = await (await app.request("/v1/search", { method: "POST", body: '{"vector":[0,1],"k":3}' })).json();
    assert.deepEqual(s.results.map((h: { id: string }) => h.id), ["r"], "a non-finite replicated vector is skipped");
    store.listeners[0]({ delete: ["r"] });
    await app.request("/v1/health");
    await new Promise((r) => setTimeout(r, 0));
    assert.equal(index.size, 0);
    store.readOnly = true;
    const w = await app.request("/v1/references", post([{ id: "a", label: "x", vector: [1, 0] }]));
    assert.equal(w.status, 409);
    assert.equal((await w.json()).error.code, "READ_ONLY");
    assert.equal(store.writes.length, 0);
  } finally {
    await close();
  }
  assert.equal(store.listeners.length, 0, "close stops watching");
});

test("app: float32 overflow, lone surrogates, payload depth and size are 4xx and never stored", async () => {
  const store = new SwitchStore();
  const { app, index, close } = await createApp({ model: vectorOnlyModel(2), store, backend });
  try {
    const cases: [string, string, number, string][] = [
      ["/v1/references", '{"items":[{"id":"a","label":"x","vector":[1e308,0]}]}', 422, "NON_FINITE"],
      ["/v1/references", '{"items":[{"id":"a","label":"x","vector":[3.5e38,0]}]}', 422, "NON_FINITE"],
      ["/v1/search", '{"vector":[-3.5e38,0]}', 422, "NON_FINITE"],
      ["/v1/classify", '{"vector":[0,1e39]}', 422, "NON_FINITE"],
      ["/v1/references", '{"items":[{"id":"\\ud800","label":"x","vector":[1,0]}]}', 422, "INVALID_ARGUMENT"],
      ["/v1/references", '{"items":[{"id":"a","label":"\\udc00x","vector":[1,0]}]}', 422, "INVALID_ARGUMENT"],
      [
        "/v1/references",
        `{"items":[{"id":"a","label":"x","vector":[1,0],"payload":${"[".repeat(40)}${"]".repeat(40)}}]}`,
        422,
        "INVALID_ARGUMENT",
      ],
      [
        "/v1/references",
        `{"items":[{"id":"a","label":"x","vector":[1,0],"payload":"${"p".repeat(70_000)}"}]}`,
        413,
        "TOO_LARGE",
      ],
    ];
    for (const [path, body, status, code] of cases) {
      const r = await app.request(path, { method: "POST", body });
      const j = await r.json();
      assert.equal(r.status, status, `${body.slice(0, 80)} → ${JSON.stringify(j)}`);
      assert.equal(j.error.code, code);
    }
    assert.equal(index.size, 0);
    assert.equal(store.writes.length, 0);
    // 3.4e38 is finite as float32 and accepted; a well-formed surrogate pair is a fine id.
    const ok = await app.request("/v1/references", post([{ id: "\ud83d\ude00", label: "x", vector: [3.4e38, 0] }]));
    assert.equal(ok.status, 200);
  } finally {
    await close();
  }
});

test("app: --protect-reads also covers health details, /metrics and /v1/openapi.json", async () => {
  const { app, close } = await createApp({
    model: vectorOnlyModel(2),
    store: new MemoryStore(),
    backend,
    auth: { token: "t", protectReads: true },
  });
  try {
    assert.deepEqual(await (await app.request("/v1/health")).json(), { status: "ok" });
    assert.equal((await app.request("/metrics")).status, 401);
    assert.equal((await app.request("/v1/openapi.json")).status, 401);
    const auth = { headers: { authorization: "Bearer t" } };
    assert.equal((await (await app.request("/v1/health", auth)).json()).store, "memory");
    assert.equal((await app.request("/metrics", auth)).status, 200);
    assert.equal((await app.request("/v1/openapi.json", auth)).status, 200);
  } finally {
    await close();
  }
});
