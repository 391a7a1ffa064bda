/**
 * `POST /v1/search` (nearest references, optionally of one label) and `POST /v1/classify` (a
 * similarity-weighted vote of the nearest, or null below the model's calibrated threshold).
 *
 * @module
 */
import type { SearchHit } from "../searcher.ts";
import { kPart, labelFilterPart, queryPart } from "./_body.ts";
import { defineRoutes, route } from "./_define.ts";
import { errorResponses, jsonContent } from "./_doc.ts";

/** The label with the largest summed similarity (clamped at 0, plus 1e-6) and its share of the total. */
function vote(neighbours: readonly SearchHit[]): { label: string; confidence: number } {
  const votes = new Map<string, number>();
  let total = 0;
  for (const n of neighbours) {
    const w = Math.max(n.score, 0) + 1e-6;
    votes.set(n.label, (votes.get(n.label) ?? 0) + w);
    total += w;
  }
  let best = neighbours[0].label;
  for (const [l, w] of votes) if (w > (votes.get(best) ?? 0)) best = l;
  return { label: best, confidence: (votes.get(best) ?? 0) / total };
}

const hit = {
  type: "object",
  properties: { id: { type: "string" }, label: { type: "string" }, score: { type: "number" }, payload: {} },
};

/** `POST /v1/search`, `POST /v1/classify`. */
export const queryRoutes = defineRoutes([
  route({
    method: "post",
    path: "/v1/search",
    access: "read",
    body: { k: kPart(10), label: labelFilterPart, vector: queryPart },
    async handle(c, ctx, { k, label, vector }) {
      return c.json({ results: await ctx.searcher.search(vector, k, label) });
    },
    doc: () => ({
      responses: {
        "200": {
          description: "Nearest first",
          content: jsonContent({ type: "object", properties: { results: { type: "array", items: hit } } }),
        },
        ...errorResponses,
      },
    }),
  }),
  route({
    method: "post",
    path: "/v1/classify",
    access: "read",
    body: { k: kPart(5), vector: queryPart },
    async handle(c, ctx, { k, vector }) {
      const neighbours = await ctx.searcher.search(vector, k);
      if (neighbours.length === 0) return c.json({ label: null, confidence: 0, neighbours });
      const { label, confidence } = vote(neighbours);
      const threshold = ctx.model.threshold;
      const open = threshold !== undefined && neighbours[0].score < threshold;
      return c.json({ label: open ? null : label, confidence: open ? 0 : confidence, neighbours });
    },
    doc: () => ({
      responses: {
        "200": { description: "Label or null (open set)", content: jsonContent({ type: "object" }) },
        ...errorResponses,
      },
    }),
  }),
]);
