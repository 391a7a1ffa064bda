/**
 * References: `POST /v1/references` (put items, durable before acknowledged), `GET` and `DELETE`
 * of one id, as `/v1/references/<id>` or `/v1/references?id=<id>` (any id, also `.` and `..`,
 * which Bun normalises away from paths).
 *
 * @module
 */
import type { Context } from "hono";
import { HttpError } from "../http_errors.ts";
import { itemsPart } from "./_body.ts";
import { defineRoutes, route } from "./_define.ts";
import { errorRef, errorResponses, jsonContent } from "./_doc.ts";
import type { JsonSchema, Route, RouteContext } from "./context.ts";

function idOf(c: Context): string {
  const id = c.req.param("id") ?? c.req.query("id");
  if (id === undefined || id === "") throw new HttpError(422, "INVALID_ARGUMENT", 'Give the id: "?id=..." or "/<id>"');
  return id;
}

async function getReference(c: Context, ctx: RouteContext): Promise<Response> {
  const id = idOf(c);
  const it = await ctx.searcher.get(id);
  if (!it) throw new HttpError(404, "NOT_FOUND", `No reference with id "${id}"`);
  return c.json({ id: it.id, label: it.label, ...(it.payload === undefined ? {} : { payload: it.payload }) });
}

async function deleteReference(c: Context, ctx: RouteContext): Promise<Response> {
  const id = idOf(c);
  if (!(await ctx.writer.delete(id))) throw new HttpError(404, "NOT_FOUND", `No reference with id "${id}"`);
  return c.body(null, 204);
}

const byQuery = [{ name: "id", in: "query", required: true, schema: { type: "string" } }];
const notFound = { "404": { description: "Unknown id" } };
const item = { "200": { description: "The item without its vector" }, ...notFound };

/** GET and DELETE of one id at `path`, documented with `extra` (the query form names its parameter). */
function oneId(path: string, extra: (method: "get" | "delete") => JsonSchema): Route[] {
  return [
    route({
      method: "get",
      path,
      access: "read",
      handle: getReference,
      doc: () => ({ ...extra("get"), responses: item }),
    }),
    route({
      method: "delete",
      path,
      access: "write",
      handle: deleteReference,
      doc: () => ({
        ...extra("delete"),
        responses: { "204": { description: "Deleted" }, ...notFound, "507": { description: "Disk full: not deleted" } },
      }),
    }),
  ];
}

/** `POST /v1/references`; `GET` and `DELETE` `/v1/references/:id` and `/v1/references?id=`. */
export const referenceRoutes = defineRoutes([
  route({
    method: "post",
    path: "/v1/references",
    access: "write",
    body: { items: itemsPart },
    async handle(c, ctx, { items }) {
      return c.json(await ctx.writer.put(items));
    },
    doc: () => ({
      responses: {
        "200": { description: "{ added, updated }", content: jsonContent({ type: "object" }) },
        "409": { description: "Read-only replica", content: jsonContent(errorRef) },
        "507": { description: "Disk full: nothing of the batch was stored", content: jsonContent(errorRef) },
        ...errorResponses,
      },
    }),
  }),
  ...oneId("/v1/references/:id", () => ({})),
  ...oneId("/v1/references", (method) => ({
    ...(method === "get"
      ? { description: "The item with `?id=` (any id, also `.` and `..`, which Bun removes from paths)" }
      : {}),
    parameters: byQuery,
  })),
]);
