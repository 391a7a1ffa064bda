/**
 * The `likeness` commands: `train`, `eval`, `serve`, `bench`, `report` and `help`. {@link runCli}
 * takes the arguments and output sinks and returns the exit code (0 ok, 1 runtime failure,
 * 2 usage or config error), so tests can call it in-process.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { isLikenessError } from "@likeness/core";
import { parseArgs, UsageError } from "./args.ts";
import { ConfigError } from "./build.ts";
import { DATASETS, ENCODERS, HEADS, LOSSES, OPTIMIZERS, SAMPLERS, SCHEDULES } from "./components.ts";
import { didYouMean } from "./suggest.ts";

/** Where the CLI writes. */
export interface CliIO {
  /** Results (stdout), one line per call. */
  out: (line: string) => void;
  /** Errors and notes (stderr), one line per call. */
  err: (line: string) => void;
  /** Raw progress text (stderr). */
  progress?: (text: string) => void;
  /** Whether progress goes to a terminal. */
  isTTY?: boolean;
}

/** The repository root (two folders above this file). */
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** A table's names for the help text: `"a" | "b"`. */
const names = (table: Record<string, unknown>) => Object.keys(table).map((n) => `"${n}"`).join(" | ");

/** Help text of each command. */
export const HELP: Record<string, string> = {
  likeness: `likeness: similarity learning for Deno and Bun

Usage: deno task likeness <command> [flags]     (Bun: bun run likeness <command> [flags])

Commands:
  train    train a model from a JSON config and write the artifact, metrics and report
  eval     evaluate a saved model on a data set's test split
  serve    serve a saved model over HTTP (search, embed, hot-add references)
  bench    run a benchmark: kernels, losses or serve
  report   render runs/<name>/report.html from a run's saved metrics
  store    reference store tools: likeness store migrate --from DIR --to FILE
  help     show help for a command: likeness help <command>

Every command takes --help. Exit codes: 0 ok, 1 runtime failure, 2 usage or config error.`,
  train: `likeness train: train a similarity model from a JSON config

Usage: likeness train --config FILE.json [--out DIR]

Flags:
  --config FILE   the training config (see examples/configs/digits-mlp.json)
  --out DIR       output folder (default runs/<config name>)
  --check         validate the config only, train nothing

Writes to the output folder: model/ (the servable artifact, SimilarityModel.save),
metrics.json (trained and untrained metrics, history, calibration), train_log.jsonl (one line
per epoch), embeddings.json (test embeddings for the map) and report.html.

Config sections:
  name, seed, description
  data      {"name": ..., ...}  one of ${Object.keys(DATASETS).join(", ")}
  encoder   {"type": ${
    Object.keys(ENCODERS).map((n) => `"${n}"`).join(" | ")
  }, "outputDim": N, ...}  (input width from the data)
  head      {"type": ${Object.keys(HEADS).map((n) => `"${n}"`).join(" | ")}, ...}  (optional)
  normalize true | false (default true)
  loss      {"name": "TripletMarginLoss", "params": {"margin": 0.1}}  any loss of @likeness/losses
  miner     {"name": "TripletMarginMiner", "params": {"type": "semihard"}}  (optional)
  sampler   {"name": ${names(SAMPLERS)}, ...}  e.g. {"name": "m-per-class", "m": 4} (default "shuffle")
  trainer   {"epochs", "batchSize", "optimizer": ${names(OPTIMIZERS)}, "lr", "clip", "seed",
             "schedule": ${names(SCHEDULES)}}  e.g. {"name": "step", "stepSize": EPOCHS, "gamma"}
  eval      {"metrics": [...], "k": N | "max_bin_count" | "all", "metric": "cosine", "baseline", "calibrate"}

Losses: ${Object.keys(LOSSES).filter((n) => !n.startsWith("Pml") || !(n.slice(3) in LOSSES)).join(", ")}`,
  eval: `likeness eval: evaluate a saved model on a data set's test split

Usage: likeness eval --model DIR --data NAME [--k N] [--limit N] [--path FILE] [--json]

Flags:
  --model DIR   a saved artifact (e.g. runs/digits-mlp/model)
  --data NAME   data set: ${Object.keys(DATASETS).join(", ")}
                (the split and options of the model's training config are reused when the name matches)
  --path FILE   file of a csv or jsonl data set
  --k N         neighbours per query (default: max_bin_count)
  --limit N     evaluate on the first N test items only
  --json        print the metrics as JSON`,
  store: `likeness store: reference store tools

Usage: likeness store migrate --from DIR --to FILE [--dim N]

migrate  copy the references of the old log format (DIR/wal.log, DIR/snapshot.log) into a new
         SQLite store FILE (serve --data D reads D/likeness.db). The log is only read; a torn tail
         (a write that was never acknowledged) is reported and left out. --dim is needed only when
         the log holds no references.`,
  serve: `likeness serve: serve a saved model over HTTP

Usage: likeness serve --model DIR [--data DIR | --qdrant URL [--collection C]] [--port N] [--host H]
                      [--token T] [--protect-reads] [--backend NAME] [--threads N]
                      [--index flat|int8|binary|hnsw [--hnsw-m N] [--hnsw-ef-construction N]
                       [--hnsw-ef-search N] [--hnsw-seed N]]
                      [--snapshot on|off] [--snapshot-every N] [--snapshot-interval S]
       likeness serve --dim N ...       (vector-only index, no encoder)

--index picks the resident index (flat exact by default; hnsw approximate, defaults M 16,
efConstruction 200, efSearch 64). With --data, an index snapshot DIR/likeness.index (on by
default) lets a restart load it plus the store's later changes instead of every vector; it is
written after 10,000 changes, every 300 s when something changed, and on shutdown.
Runs packages/server/main.ts with these flags (the token may also come from LIKENESS_TOKEN).
Stop it with Ctrl-C.`,
  bench: `likeness bench: run a benchmark

Usage: likeness bench <kernels|losses|serve> [--quick]

Runs bench/<name>_main.ts with the current runtime; --quick runs the small variant. Results
are printed and written as JSON by the benchmark itself.`,
  report: `likeness report: render a run's HTML report

Usage: likeness report --run DIR

Reads DIR/metrics.json (and DIR/embeddings.json when present), as written by likeness train,
and writes DIR/report.html (one self-contained file).`,
  help: `likeness help: show help

Usage: likeness help [command]`,
};

const COMMANDS = ["train", "eval", "serve", "bench", "report", "store", "help"];

function runtimeArgs(script: string): [string, string[]] {
  const g = globalThis as { Deno?: unknown };
  const exe = process.execPath;
  return g.Deno ? [exe, ["run", "-A", script]] : [exe, [script]];
}

function spawnScript(script: string, args: readonly string[]): Promise<number> {
  const [exe, pre] = runtimeArgs(script);
  return new Promise((res) => {
    const child = spawn(exe, [...pre, ...args], { stdio: "inherit", cwd: REPO_ROOT });
    const forward = (sig: "SIGINT" | "SIGTERM") => () => child.kill(sig);
    const onInt = forward("SIGINT"), onTerm = forward("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
    child.on("close", (code) => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      res(code ?? 1);
    });
    child.on("error", () => res(1));
  });
}

function formatTable(rows: { name: string; values: Record<string, number> }[]): string[] {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r.values)))];
  const header = ["", ...cols];
  const body = rows.map((
    r,
  ) => [r.name, ...cols.map((c) => (r.values[c] === undefined ? "-" : r.values[c].toFixed(4)))]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)];
}

async function cmdTrain(argv: readonly string[], io: CliIO): Promise<number> {
  const { flags } = parseArgs(argv, { config: "string", out: "string", check: "boolean" }, "train");
  if (flags.help) return help("train", io);
  if (typeof flags.config !== "string") throw new UsageError("likeness train: missing --config FILE.json; see --help");
  const { readConfigFile, trainFromConfig } = await import("./train.ts");
  const { config, name } = await readConfigFile(flags.config);
  if (flags.check) {
    io.out(`${flags.config}: ok (run name ${name})`);
    return 0;
  }
  const { dir, metrics } = await trainFromConfig(config, name, {
    out: typeof flags.out === "string" ? flags.out : undefined,
    note: io.err,
    progress: io.progress,
    isTTY: io.isTTY,
  });
  const rows = [{ name: "trained", values: metrics.metrics.trained }];
  if (metrics.metrics.untrained) rows.push({ name: "untrained", values: metrics.metrics.untrained });
  io.out(`${name}: ${metrics.dataset}; ${metrics.model}; ${metrics.loss}`);
  for (const l of formatTable(rows)) io.out(l);
  io.out(`${metrics.epochs} epochs, ${metrics.steps} steps, ${metrics.wallSeconds.total} s`);
  io.out(
    `wrote ${join(dir, "model")}, ${join(dir, "metrics.json")}, ${join(dir, "train_log.jsonl")}, ${
      join(dir, "report.html")
    }`,
  );
  io.out(`serve it: deno task likeness serve --model ${join(dir, "model")}`);
  return 0;
}

async function cmdEval(argv: readonly string[], io: CliIO): Promise<number> {
  const { flags } = parseArgs(
    argv,
    { model: "string", data: "string", k: "int", limit: "int", path: "string", json: "boolean" },
    "eval",
  );
  if (flags.help) return help("eval", io);
  if (typeof flags.model !== "string") throw new UsageError("likeness eval: missing --model DIR; see --help");
  if (typeof flags.data !== "string") throw new UsageError("likeness eval: missing --data NAME; see --help");
  const dataName = flags.data;
  if (!(dataName in DATASETS)) {
    throw new UsageError(`likeness eval: unknown data set "${dataName}"${didYouMean(dataName, Object.keys(DATASETS))}`);
  }
  if ((dataName === "csv" || dataName === "jsonl") && typeof flags.path !== "string") {
    throw new UsageError(`likeness eval: --data ${dataName} needs --path FILE`);
  }
  if (!existsSync(flags.model)) {
    throw new UsageError(`likeness eval: no model at ${flags.model}; pass a folder written by likeness train`);
  }
  const { useTfBackend } = await import("@likeness/tf");
  const { createBackend } = await import("@likeness/backend");
  const { SimilarityModel } = await import("@likeness/models");
  const { loadConfigData } = await import("./data.ts");
  const { evaluateModel, makeEmbedder } = await import("./evaluate.ts");
  const { DirStore, EmbeddingCache } = await import("@likeness/cache");
  await useTfBackend("wasm");
  const { model, metadata } = await SimilarityModel.loadArtifact(flags.model);
  const trained = (metadata?.config ?? {}) as {
    data?: { name: string };
    seed?: number;
    eval?: Record<string, unknown>;
  };
  const data: { name: string; [k: string]: unknown } = trained.data?.name === dataName
    ? { ...trained.data }
    : { name: dataName };
  if (typeof flags.path === "string") data.path = flags.path;
  // Only the test split is evaluated: read a single training image.
  if (dataName === "mnist" || dataName === "fashion-mnist") data.trainLimit = 1;
  const loaded = await loadConfigData(data, trained.seed ?? 1);
  if (loaded.kind === "features" && model.encoder.type !== "use-lite") {
    const want = model.encoder.config().inputDim ??
      (model.encoder.config().inputShape as number[] | undefined)?.reduce((a, b) => a * b, 1);
    if (typeof want === "number" && want !== loaded.dim) {
      throw new UsageError(
        `likeness eval: the model reads ${want} features but ${dataName} has ${loaded.dim}; evaluate on the data it was trained on`,
      );
    }
  }
  const { backend } = await createBackend({ tf: false });
  try {
    const settings = { ...(trained.eval ?? {}), ...(typeof flags.k === "number" ? { k: flags.k } : {}) };
    const cache = new EmbeddingCache({ store: new DirStore(join(".cache", "embeddings")) });
    const r = await evaluateModel(model, loaded, settings, {
      embed: makeEmbedder({ cache }),
      backend,
      limit: typeof flags.limit === "number" ? flags.limit : undefined,
    });
    if (flags.json) io.out(JSON.stringify({ model: flags.model, data: dataName, metrics: r.metrics }));
    else {
      const n = loaded.kind === "pairs" ? loaded.testPairs!.a.length : loaded.test!.labels.length;
      const used = typeof flags.limit === "number" ? Math.min(n, flags.limit) : n;
      io.out(`${flags.model} on the ${dataName} test split (${used} ${loaded.kind === "pairs" ? "pairs" : "items"})`);
      for (const l of formatTable([{ name: "model", values: r.metrics }])) io.out(l);
    }
  } finally {
    backend.dispose();
    model.dispose();
  }
  return 0;
}

async function cmdServe(argv: readonly string[], io: CliIO): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) return help("serve", io);
  // The server's own entry: it starts the compute and tfjs backends, then restores the model.
  const { main } = await import("@likeness/server/main");
  const running = await main([...argv]);
  if (!running) return 0;
  await new Promise<void>((res) => {
    process.once("SIGINT", () => res());
    process.once("SIGTERM", () => res());
  });
  await running.stop();
  io.out("likeness: server stopped");
  return 0;
}

async function cmdStore(argv: readonly string[], io: CliIO): Promise<number> {
  const { flags, positionals } = parseArgs(argv, { from: "string", to: "string", dim: "int" }, "store");
  if (flags.help) return help("store", io);
  if (positionals[0] !== "migrate") {
    throw new UsageError(
      `likeness store: ${
        positionals[0] === undefined ? "name a sub-command" : `unknown sub-command "${positionals[0]}"`
      }: migrate; see --help`,
    );
  }
  if (typeof flags.from !== "string" || typeof flags.to !== "string") {
    throw new UsageError("likeness store migrate: give --from DIR (the old log) and --to FILE (the new SQLite file)");
  }
  const { migrateFileStore } = await import("@likeness/server");
  const r = await migrateFileStore(flags.from, flags.to, typeof flags.dim === "number" ? { dim: flags.dim } : {});
  io.out(
    `migrated ${r.items} references (${r.dim}-d) from ${flags.from} to ${flags.to}${
      r.tornBytes ? `; left out a torn tail of ${r.tornBytes} bytes (never acknowledged)` : ""
    }`,
  );
  return 0;
}

async function cmdBench(argv: readonly string[], io: CliIO): Promise<number> {
  const { flags, positionals } = parseArgs(argv, { quick: "boolean" }, "bench");
  if (flags.help) return help("bench", io);
  const kinds = ["kernels", "losses", "serve"];
  const kind = positionals[0];
  if (!kind) throw new UsageError("likeness bench: name a benchmark: kernels, losses or serve; see --help");
  if (!kinds.includes(kind)) {
    throw new UsageError(`likeness bench: unknown benchmark "${kind}"${didYouMean(kind, kinds)}`);
  }
  if (positionals.length > 1) throw new UsageError(`likeness bench: unexpected argument "${positionals[1]}"`);
  const script = join(REPO_ROOT, "bench", `${kind}_main.ts`);
  return await spawnScript(script, flags.quick ? ["--quick"] : []);
}

async function cmdReport(argv: readonly string[], io: CliIO): Promise<number> {
  const { flags } = parseArgs(argv, { run: "string" }, "report");
  if (flags.help) return help("report", io);
  if (typeof flags.run !== "string") {
    throw new UsageError("likeness report: missing --run DIR (e.g. runs/digits-mlp); see --help");
  }
  if (!existsSync(join(flags.run, "metrics.json"))) {
    throw new UsageError(`likeness report: ${flags.run} has no metrics.json; run likeness train first`);
  }
  const { renderRunReport } = await import("./report.ts");
  io.out(`wrote ${await renderRunReport(flags.run)}`);
  return 0;
}

function help(command: string, io: CliIO): number {
  io.out(HELP[command]);
  return 0;
}

/**
 * Run the CLI.
 *
 * @param argv arguments after the program name
 * @param io output sinks
 * @returns the exit code: 0 ok, 1 runtime failure, 2 usage or config error
 * @example
 * ```ts
 * import { runCli } from "@likeness/cli";
 * const lines: string[] = [];
 * const code = await runCli(["help", "train"], { out: (l) => lines.push(l), err: (l) => lines.push(l) });
 * console.log(code, lines[0].startsWith("likeness train")); // 0 true
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === "--help" || command === "-h") return help("likeness", io);
    switch (command) {
      case "help": {
        const topic = rest[0] === undefined ? "likeness" : rest[0] === "--help" || rest[0] === "-h" ? "help" : rest[0];
        if (!(topic in HELP)) {
          throw new UsageError(`likeness help: unknown command "${topic}"${didYouMean(topic, COMMANDS)}`);
        }
        return help(topic, io);
      }
      case "train":
        return await cmdTrain(rest, io);
      case "eval":
        return await cmdEval(rest, io);
      case "serve":
        return await cmdServe(rest, io);
      case "store":
        return await cmdStore(rest, io);
      case "bench":
        return await cmdBench(rest, io);
      case "report":
        return await cmdReport(rest, io);
      default:
        throw new UsageError(
          `likeness: unknown command "${command}"${didYouMean(command, COMMANDS)} (see likeness --help)`,
        );
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(e.message);
      return 2;
    }
    if (e instanceof ConfigError) {
      for (const i of e.issues) io.err(`${i.path}: ${i.message}`);
      io.err(
        `likeness ${command}: ${e.issues.length} problem${
          e.issues.length === 1 ? "" : "s"
        } in the config; nothing was trained`,
      );
      return 2;
    }
    if (isLikenessError(e)) {
      io.err(`likeness ${command}: error [${e.code}]: ${e.message}`);
      return 1;
    }
    io.err(`likeness ${command}: error: ${(e as Error)?.message ?? e}`);
    if (process.env.LIKENESS_DEBUG) io.err(String((e as Error)?.stack));
    return 1;
  }
}
