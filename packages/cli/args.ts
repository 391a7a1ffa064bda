/**
 * Flag parsing for the CLI: `--name value`, `--name=value` and boolean `--flag`, checked against
 * the flags a command knows (an unknown flag gets a suggestion).
 *
 * @module
 */
import { didYouMean } from "./suggest.ts";

/** A usage error: exit code 2, printed as one line. */
export class UsageError extends Error {
  /**
   * @param message what is wrong and how to fix it
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Flag kinds: a string value, a positive integer, or a boolean switch. */
export type FlagKind = "string" | "int" | "boolean";

/** Parsed flags and positional arguments. */
export interface ParsedArgs {
  /** Flag values by name. */
  flags: Record<string, string | number | boolean>;
  /** Arguments that are not flags. */
  positionals: string[];
}

/**
 * Parse arguments against known flags.
 *
 * @param argv the arguments after the command
 * @param known flag name → kind (`help` is always known)
 * @param command command name for messages
 * @returns flags and positionals
 * @throws {UsageError} for an unknown flag (with a suggestion), a missing value, or a bad integer
 * @example
 * ```ts
 * import { parseArgs } from "@likeness/cli";
 * console.log(parseArgs(["--k", "5", "x"], { k: "int" }, "eval")); // { flags: { k: 5 }, positionals: ["x"] }
 * ```
 */
export function parseArgs(argv: readonly string[], known: Record<string, FlagKind>, command: string): ParsedArgs {
  const all: Record<string, FlagKind> = { help: "boolean", ...known };
  const flags: ParsedArgs["flags"] = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-h") {
      flags.help = true;
      continue;
    }
    if (!a.startsWith("--")) {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const kind = all[name];
    if (!kind) {
      throw new UsageError(
        `likeness ${command}: unknown flag --${name}${didYouMean(`--${name}`, Object.keys(all).map((k) => `--${k}`))}`,
      );
    }
    if (kind === "boolean") {
      if (eq >= 0) throw new UsageError(`likeness ${command}: --${name} takes no value`);
      flags[name] = true;
      continue;
    }
    let value: string | undefined = eq >= 0 ? a.slice(eq + 1) : argv[i + 1];
    if (eq < 0) {
      if (value === undefined || value.startsWith("--")) value = undefined;
      else i++;
    }
    if (value === undefined || value === "") throw new UsageError(`likeness ${command}: --${name} needs a value`);
    if (kind === "int") {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) {
        throw new UsageError(`likeness ${command}: --${name} must be a positive integer, got ${JSON.stringify(value)}`);
      }
      flags[name] = n;
    } else flags[name] = value;
  }
  return { flags, positionals };
}
