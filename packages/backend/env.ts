/**
 * Reading an environment variable without depending on a runtime: Deno, Bun and Node are
 * probed inside `try`, so the same code runs at the edge (where there is no environment, or
 * reading it needs a permission) and simply sees nothing.
 *
 * @module
 */

/** A source of environment variables: a plain record or a getter. */
export type EnvSource = Record<string, string | undefined> | ((name: string) => string | undefined);

/**
 * Read an environment variable from `source` if given, else from `Deno.env` or `process.env`.
 * Never throws: a missing runtime or a denied permission reads as `undefined`.
 *
 * @param name variable name, e.g. `LIKENESS_BACKEND`
 * @param source optional explicit source (a record or a function); when given, the runtime is not consulted
 * @returns the value, or undefined when unset, empty or unreadable
 * @example
 * ```ts
 * import { readEnv } from "@likeness/backend";
 * console.log(readEnv("LIKENESS_BACKEND", { LIKENESS_BACKEND: "js" })); // "js"
 * ```
 */
export function readEnv(name: string, source?: EnvSource): string | undefined {
  let v: string | undefined;
  try {
    if (typeof source === "function") v = source(name);
    else if (source) v = source[name];
    else {
      const g = globalThis as {
        Deno?: { env?: { get?(n: string): string | undefined } };
        process?: { env?: Record<string, string | undefined> };
      };
      if (typeof g.Deno?.env?.get === "function") v = g.Deno.env.get(name);
      else v = g.process?.env?.[name];
    }
  } catch {
    v = undefined;
  }
  return typeof v === "string" && v.trim() !== "" ? v.trim() : undefined;
}
