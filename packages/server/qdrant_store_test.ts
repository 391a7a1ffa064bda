import { test } from "node:test";
import assert from "node:assert/strict";
import { QdrantStore, serveFetch, uuidForId } from "@likeness/server";

// A loopback HTTP server speaking the part of Qdrant's REST API the adapter uses. This tests the
// adapter through the real @qdrant/js-client-rest client; it is not a test of Qdrant itself.
function fakeQdrant() {
  const collections = new Map<
    string,
    Map<string, { id: string; vector: number[]; payload: Record<string, unknown> }>
  >();
  const ok = (result: unknown) => Response.json({ result, status: "ok", time: 0 });
  const requests: string[] = [];
  const fetch = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const m = /^\/collections\/([^/]+)(\/.*)?$/.exec(url.pathname);
    if (!m) return Response.json({ status: { error: "not found" } }, { status: 404 });
    const [, name, rest = ""] = m;
    const body = req.method === "GET" ? undefined : await req.json().catch(() => undefined);
    if (rest === "/exists" && req.method === "GET") return ok({ exists: collections.has(name) });
    if (rest === "" && req.method === "PUT") {
      collections.set(name, new Map());
      return ok(true);
    }
    const col = collections.get(name);
    if (!col) return Response.json({ status: { error: `Collection ${name} not found` } }, { status: 404 });
    if (rest === "/points" && req.method === "PUT") {
      for (const p of body.points) col.set(p.id, p);
      return ok({ operation_id: 1, status: url.searchParams.get("wait") === "true" ? "completed" : "acknowledged" });
    }
    if (rest === "/points/delete" && req.method === "POST") {
      for (const id of body.points) col.delete(id);
      return ok({ operation_id: 2, status: "completed" });
    }
    if (rest === "/points/scroll" && req.method === "POST") {
      const all = [...col.values()].sort((a, b) => a.id.localeCompare(b.id));
      const start = body.offset ? all.findIndex((p) => p.id === body.offset) : 0;
      const page = all.slice(start, start + body.limit);
      const next = all[start + body.limit]?.id ?? null;
      return ok({
        points: page.map((p) => ({ id: p.id, payload: p.payload, vector: p.vector })),
        next_page_offset: next,
      });
    }
    return Response.json({ status: { error: `unsupported ${req.method} ${rest}` } }, { status: 400 });
  };
  return { fetch, requests };
}

test("qdrant store: create, upsert, delete and reload through the real client", async () => {
  const fake = fakeQdrant();
  const server = await serveFetch(fake.fetch, { port: 0 });
  try {
    const url = `http://127.0.0.1:${server.port}`;
    const store = await QdrantStore.connect({ url, collection: "refs", dim: 3 });
    assert.deepEqual(await store.load(), []);
    await store.write({
      put: Array.from(
        { length: 1500 },
        (_, i) => ({ id: `id-${i}`, label: `c${i % 3}`, vector: Float32Array.of(i, 1, 0), payload: { i } }),
      ),
    });
    await store.write({ delete: ["id-7"] });
    const again = await QdrantStore.connect({ url, collection: "refs", dim: 3 });
    const items = await again.load();
    assert.equal(items.length, 1499, "scrolls across pages");
    const byId = new Map(items.map((i) => [i.id, i]));
    assert.equal(byId.has("id-7"), false);
    assert.deepEqual(Array.from(byId.get("id-42")!.vector), [42, 1, 0]);
    assert.deepEqual(byId.get("id-42")!.payload, { i: 42 });
    assert.equal(byId.get("id-42")!.label, "c0");
    assert.ok(fake.requests.some((r) => r.startsWith("PUT /collections/refs/points") && r.includes("wait=true")));
    assert.equal(store.describe(), `qdrant:${url}/refs`);
  } finally {
    await server.close();
  }
});

test("qdrant store: ids map to stable, distinct UUIDs", () => {
  assert.equal(uuidForId("a"), uuidForId("a"));
  assert.notEqual(uuidForId("a"), uuidForId("b"));
  assert.match(uuidForId("anything"), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});
