/**
 * `POST /v1/embed`: raw inputs to embeddings.
 *
 * @module
 */
import { encodeChecked, inputsPart } from "./_body.ts";
import { defineRoutes, route } from "./_define.ts";
import { errorResponses, jsonContent } from "./_doc.ts";

/** `POST /v1/embed`. */
export const embedRoutes = defineRoutes([
  route({
    method: "post",
    path: "/v1/embed",
    access: "read",
    body: { inputs: inputsPart },
    async handle(c, ctx, { inputs }) {
      const vs = await encodeChecked(inputs, ctx, (i) => `the embedding of inputs[${i}]`);
      return c.json({ embeddings: vs.map((v) => Array.from(v)), dim: ctx.model.dim, model: ctx.model.name });
    },
    doc: () => ({
      responses: { "200": { description: "Embeddings", content: jsonContent({ type: "object" }) }, ...errorResponses },
    }),
  }),
]);
