import { test } from "node:test";
import assert from "node:assert/strict";
import { createBackend } from "@likeness/backend";
import {
  createApp,
  MemoryStore,
  openApiDocument,
  type ReferenceItem,
  serveFetch,
  vectorOnlyModel,
} from "@likeness/server";

const { backend } = await createBackend({ prefer: "wasm-simd", tf: false });

type Op = {
  security?: unknown;
  requestBody?: { content: { "application/json": { schema: Schema } } };
};
type Schema =
  & { properties: Record<string, Schema & Record<string, unknown>>; required?: string[] }
  & Record<
    string,
    unknown
  >;

function bodyOf(doc: Record<string, unknown>, path: string, method: string): Schema {
  const op = (doc.paths as Record<string, Record<string, Op>>)[path][method];
  return op.requestBody!.content["application/json"].schema;
}

async function serve(store: MemoryStore, limits: Record<string, number>, token?: string) {
  const made = await createApp({ model: vectorOnlyModel(3), store, backend, limits, auth: { token } });
  const server = await serveFetch(made.app.fetch, { port: 0 });
  const base = `http://127.0.0.1:${server.port}`;
  return {
    made,
    async call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
      const res = await fetch(base + path, {
        method,
        headers: { "content-type": "application/json", ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : null };
    },
    async stop() {
      await server.close();
      await made.close();
    },
  };
}

test("routes: every route the app serves is in the OpenAPI document, and every documented one is served", async () => {
  const s = await serve(new MemoryStore([], { dim: 3 }), {});
  try {
    const served = s.made.app.routes
      .filter((r) => r.method !== "ALL")
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`)
      .sort();
    const doc = openApiDocument(vectorOnlyModel(3), {}) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .concat("GET /v1/openapi.json")
      .sort();
    assert.deepEqual(served, documented);
    assert.equal(served.length, 11);
    // The document the server serves is the same one.
    const r = await s.call("GET", "/v1/openapi.json");
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.json.paths).sort(), Object.keys(doc.paths).sort());
  } finally {
    await s.stop();
  }
});

test("routes: the bounds a body documents are the ones its route enforces", async () => {
  const limits = { maxK: 7, maxItems: 3 };
  const doc = openApiDocument(vectorOnlyModel(3), limits);
  const search = bodyOf(doc, "/v1/search", "post");
  assert.deepEqual(search.properties.k, { type: "integer", minimum: 1, maximum: 7, default: 10 });
  assert.equal(search.properties.vector.minItems, 3);
  assert.equal(search.properties.vector.maxItems, 3);
  assert.equal(bodyOf(doc, "/v1/classify", "post").properties.k.default, 5);
  const refs = bodyOf(doc, "/v1/references", "post");
  assert.deepEqual(refs.required, ["items"]);
  assert.equal(refs.properties.items.maxItems, 3);
  assert.equal(bodyOf(doc, "/v1/embed", "post").properties.inputs.maxItems, 3);

  const items = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `r${i}`, label: "x", vector: [1, i, 0] }));
  const s = await serve(new MemoryStore([], { dim: 3 }), limits);
  try {
    assert.equal((await s.call("POST", "/v1/references", { items: items(3) })).status, 200);
    const over = await s.call("POST", "/v1/references", { items: items(4) });
    assert.deepEqual([over.status, over.json.error.code], [413, "TOO_LARGE"]);
    const ok = await s.call("POST", "/v1/search", { vector: [1, 0, 0], k: 7 });
    assert.deepEqual([ok.status, ok.json.results.length], [200, 3]);
    const big = await s.call("POST", "/v1/search", { vector: [1, 0, 0], k: 8 });
    assert.deepEqual([big.status, big.json.error.code], [422, "K_TOO_LARGE"]);
    const wide = await s.call("POST", "/v1/search", { vector: [1, 0, 0, 0] });
    assert.deepEqual([wide.status, wide.json.error.code], [422, "SHAPE_MISMATCH"]);
  } finally {
    await s.stop();
  }
});

test("routes: writes are documented as needing the token, and they do; reads do not", async () => {
  const doc = openApiDocument(vectorOnlyModel(3), {}) as { paths: Record<string, Record<string, Op>> };
  assert.deepEqual(doc.paths["/v1/references"].post.security, [{ bearer: [] }]);
  assert.deepEqual(doc.paths["/v1/references/{id}"].delete.security, [{ bearer: [] }]);
  assert.equal(doc.paths["/v1/search"].post.security, undefined);
  const s = await serve(new MemoryStore([], { dim: 3 }), {}, "t0k");
  try {
    const item = { items: [{ id: "a", label: "x", vector: [1, 0, 0] }] };
    assert.equal((await s.call("POST", "/v1/references", item)).status, 401);
    assert.equal((await s.call("POST", "/v1/references", item, { authorization: "Bearer t0k" })).status, 200);
    assert.equal((await s.call("DELETE", "/v1/references/a")).status, 401);
    assert.equal((await s.call("POST", "/v1/search", { vector: [1, 0, 0] })).json.results[0].id, "a");
  } finally {
    await s.stop();
  }
});

/** A store that asks to be compacted after every write (through the declared `needsCompaction`). */
class CompactingStore extends MemoryStore {
  readonly compacted: string[][] = [];
  readonly needsCompaction = true;
  compact(live: Iterable<ReferenceItem>): Promise<void> {
    this.compacted.push([...live].map((it) => it.id).sort());
    return Promise.resolve();
  }
}

test("routes: a store whose needsCompaction is true is compacted with the live items after each write", async () => {
  const store = new CompactingStore([], { dim: 3 });
  const s = await serve(store, {});
  try {
    await s.call("POST", "/v1/references", {
      items: [{ id: "a", label: "x", vector: [1, 0, 0] }, { id: "b", label: "y", vector: [0, 1, 0] }],
    });
    assert.equal((await s.call("DELETE", "/v1/references/a")).status, 204);
    assert.equal((await s.call("DELETE", "/v1/references/a")).status, 404);
    assert.deepEqual(store.compacted, [["a", "b"], ["b"]]);
  } finally {
    await s.stop();
  }
});
