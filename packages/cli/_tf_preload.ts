/**
 * Preloaded before `packages/server/main.ts` by `likeness serve`: selects the tfjs wasm backend
 * first, so a saved model can be restored (the server entry does not do it itself yet).
 *
 * @module
 */
import { useTfBackend } from "@likeness/tf";

await useTfBackend("wasm");
