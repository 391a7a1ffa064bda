/**
 * Progress reporting: a redrawn bar on a terminal, plain lines otherwise. Takes a `write`
 * function and an `isTTY` flag, so it runs anywhere (the CLI passes stdout's).
 *
 * @module
 */
import type { BatchInfo, Callback, EpochLog } from "./callbacks.ts";

/** Options of {@link progressReporter}. */
export interface ProgressReporterOptions {
  /** Receives text (no newline added). */
  write: (text: string) => void;
  /** Whether `write` goes to a terminal: redraw one line with `\r` (default false: plain lines). */
  isTTY?: boolean;
  /** Bar width in characters (default 30). */
  width?: number;
  /** Plain mode: also print a line every this many batches (default 0: only at epoch end). */
  everyBatches?: number;
}

function fmt(v: number | undefined): string {
  if (v === undefined) return "-";
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e4) ? v.toExponential(3) : v.toFixed(4);
}

/**
 * Render a progress bar string.
 * @param done items done
 * @param total items in total
 * @param width characters
 * @returns e.g. `[=========>          ]`
 * @example
 * ```ts
 * import { renderBar } from "@likeness/trainer";
 * console.log(renderBar(1, 2, 10)); // [====>     ]
 * ```
 */
export function renderBar(done: number, total: number, width = 30): string {
  const frac = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
  const filled = Math.round(frac * width);
  if (filled >= width) return `[${"=".repeat(width)}]`;
  return `[${"=".repeat(Math.max(0, filled - 1))}${filled > 0 ? ">" : ""}${" ".repeat(width - filled)}]`;
}

/**
 * A callback that reports training progress.
 *
 * @param options write function, TTY flag, width
 * @returns a {@link Callback} for `fit`
 * @example
 * ```ts
 * import { progressReporter } from "@likeness/trainer";
 * const reporter = progressReporter({ write: (t) => console.log(t.trimEnd()), isTTY: false });
 * console.log(typeof reporter.onEpochEnd); // function
 * ```
 */
export function progressReporter(options: ProgressReporterOptions): Callback {
  const { write } = options;
  const tty = options.isTTY ?? false;
  const width = options.width ?? 30;
  let lossSum = 0;
  let count = 0;
  let lastEpoch = 0;
  return {
    onBatchEnd(info: BatchInfo) {
      if (info.epoch !== lastEpoch) {
        lastEpoch = info.epoch;
        lossSum = 0;
        count = 0;
      }
      lossSum += info.loss;
      count++;
      const head = `epoch ${info.epoch}/${info.epochs}`;
      if (tty) {
        write(
          `\r${head} ${renderBar(info.batch, info.batches, width)} ${info.batch}/${info.batches} loss ${
            fmt(lossSum / count)
          } lr ${fmt(info.lr)}\x1b[K`,
        );
      } else if (options.everyBatches && info.batch % options.everyBatches === 0) {
        write(`${head} batch ${info.batch}/${info.batches} loss ${fmt(lossSum / count)} lr ${fmt(info.lr)}\n`);
      }
    },
    onEpochEnd(log: EpochLog, ctx) {
      const extras = Object.entries(log)
        .filter(([k]) => !["epoch", "loss", "lr", "steps", "grad_norm"].includes(k))
        .map(([k, v]) => `${k} ${fmt(v)}`)
        .join(" ");
      const line = `epoch ${log.epoch}/${ctx.epochs} loss ${fmt(log.loss)}${extras ? " " + extras : ""} lr ${
        fmt(log.lr)
      }`;
      write(tty ? `\r${line}\x1b[K\n` : `${line}\n`);
    },
  };
}
