/**
 * Entry point of the `likeness` command: `deno task likeness <command> ...` or
 * `bun run likeness <command> ...`. See `likeness --help`.
 *
 * @module
 */
import process from "node:process";
import { runCli } from "./cli.ts";

if ((import.meta as ImportMeta & { main?: boolean }).main) {
  const code = await runCli(process.argv.slice(2), {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    progress: (text) => process.stderr.write(text),
    isTTY: process.stderr.isTTY === true,
  });
  process.exit(code);
}
