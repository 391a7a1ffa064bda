/**
 * Pieces of the OpenAPI document that several route modules use: JSON content, the error schema
 * and the 4xx answers every body-reading route may give.
 *
 * @module
 */
import type { JsonSchema } from "./context.ts";

/**
 * `application/json` content with a schema.
 *
 * @param schema the JSON Schema
 * @returns an OpenAPI content object
 */
export const jsonContent = (schema: unknown): JsonSchema => ({ "application/json": { schema } });

/** The error body's schema reference. */
export const errorRef: JsonSchema = { $ref: "#/components/schemas/Error" };

/** The error answers of a route that reads a body. */
export const errorResponses: Record<string, JsonSchema> = {
  "400": { description: "Malformed JSON", content: jsonContent(errorRef) },
  "401": { description: "Missing or wrong bearer token", content: jsonContent(errorRef) },
  "413": { description: "Body, item count or dimension over the limit", content: jsonContent(errorRef) },
  "422": { description: "Invalid values (dimension, non-finite, k)", content: jsonContent(errorRef) },
};
