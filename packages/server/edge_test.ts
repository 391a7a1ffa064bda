import { test } from "node:test";
import assert from "node:assert/strict";
import { createEdgeHandler } from "@likeness/server/edge";
import { vectorOnlyModel } from "@likeness/server";

test("edge handler: a plain fetch handler that hot-adds and searches without a file system", async () => {
  const handler = createEdgeHandler({ model: vectorOnlyModel(2), auth: { token: "t" } });
  const post = (path: string, body: unknown, token?: string) =>
    handler.fetch(
      new Request(`http://edge${path}`, {
        method: "POST",
        headers: token ? { authorization: `Bearer ${token}` } : {},
        body: JSON.stringify(body),
      }),
    );
  let res = await post("/v1/references", { items: [{ id: "a", label: "x", vector: [1, 0] }] });
  assert.equal(res.status, 401);
  res = await post("/v1/references", {
    items: [{ id: "a", label: "x", vector: [1, 0] }, { id: "b", label: "y", vector: [0, 1] }],
  }, "t");
  assert.deepEqual(await res.json(), { added: 2, updated: 0 });
  res = await post("/v1/search", { vector: [0.1, 0.9], k: 1 });
  assert.deepEqual((await res.json()).results.map((h: { id: string }) => h.id), ["b"]);
  res = await handler.fetch(new Request("http://edge/v1/health"));
  const health = await res.json();
  assert.equal(health.references, 2);
  assert.equal(health.store, "memory");
});
