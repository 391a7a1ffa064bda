/**
 * Core of likeness: typed errors, validation, seeded randomness and label matching shared
 * by every package.
 *
 * @example
 * ```ts
 * import { createRng, toMatrix } from "@likeness/core";
 * const m = toMatrix([[1, 2], [3, 4]], "query");
 * const rng = createRng(7);
 * console.log(m.rows, rng.int(10));
 * ```
 *
 * @module
 */
export * from "./errors.ts";
export * from "./validate.ts";
export * from "./bytes.ts";
export * from "./rng.ts";
export * from "./labels.ts";
export * from "./mined.ts";
export * from "./vocabulary.ts";
export * from "./schema.ts";
export * from "./suggest.ts";
export * from "./components.ts";
