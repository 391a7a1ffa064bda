/**
 * Training callbacks: the {@link Callback} interface, early stopping and JSONL metric logging.
 *
 * @module
 */
import { checkFiniteNumber, ValueError } from "@likeness/core";
import type { NamedTensor, SimilarityModel } from "@likeness/models";

/** Metrics of one finished epoch. */
export interface EpochLog {
  /** Epoch number, 1-based. */
  epoch: number;
  /** Mean training loss over the epoch's batches. */
  loss: number;
  /** Learning rate of the epoch's last step. */
  lr: number;
  /** Optimiser steps so far (global). */
  steps: number;
  /** Mean global gradient norm before clipping. */
  grad_norm: number;
  /** Mean validation loss, when validation data is given. */
  val_loss?: number;
  /** Any metric the `validate` hook returned. */
  [metric: string]: number | undefined;
}

/** One finished batch. */
export interface BatchInfo {
  /** Epoch, 1-based. */
  epoch: number;
  /** Total epochs of the run. */
  epochs: number;
  /** Batch within the epoch, 1-based. */
  batch: number;
  /** Batches in the epoch. */
  batches: number;
  /** This batch's loss. */
  loss: number;
  /** Learning rate used. */
  lr: number;
}

/** What a callback can see and do. */
export interface CallbackContext {
  /** The model being trained. */
  readonly model: SimilarityModel;
  /** Total epochs of the run. */
  readonly epochs: number;
  /**
   * Ask the trainer to stop after this epoch.
   * @param reason recorded in the result
   */
  stop(reason: string): void;
}

/** Hooks called by `fit`; all optional. */
export interface Callback {
  /** Called once before the first epoch (after a resume, with the restored state). */
  onTrainBegin?(ctx: CallbackContext): void | Promise<void>;
  /** Called after each optimiser step. */
  onBatchEnd?(info: BatchInfo, ctx: CallbackContext): void;
  /** Called after each epoch (after validation). */
  onEpochEnd?(log: EpochLog, ctx: CallbackContext): void | Promise<void>;
  /** Called once at the end (also after an early stop). */
  onTrainEnd?(history: readonly EpochLog[], ctx: CallbackContext): void | Promise<void>;
  /** State to keep in a checkpoint (JSON). */
  getState?(): unknown;
  /** Restore state from a checkpoint. */
  setState?(state: unknown): void;
}

/** Options of {@link earlyStopping}. */
export interface EarlyStoppingOptions {
  /** Log field to watch (default `val_loss`, falling back to `loss` when absent). */
  monitor?: string;
  /** Whether smaller (`min`, default) or larger (`max`) is better. */
  mode?: "min" | "max";
  /** Epochs without improvement before stopping (default 3). */
  patience?: number;
  /** Smallest change that counts as improvement (default 0). */
  minDelta?: number;
  /** Put the best epoch's weights back when stopping or at the end (default false). */
  restoreBest?: boolean;
}

/** The early-stopping callback with what it has seen. */
export interface EarlyStopping extends Callback {
  /** Best value so far (undefined before the first epoch). */
  readonly best: number | undefined;
  /** Epoch of the best value. */
  readonly bestEpoch: number;
}

/**
 * Stop when the monitored metric has not improved for `patience` epochs.
 *
 * @param options monitor, mode, patience, minDelta, restoreBest
 * @returns the callback
 * @throws {ValueError} INVALID_ARGUMENT for a bad mode or patience
 * @example
 * ```ts
 * import { earlyStopping } from "@likeness/trainer";
 * const stop = earlyStopping({ monitor: "val_loss", patience: 2, restoreBest: true });
 * console.log(stop.best); // undefined
 * ```
 */
export function earlyStopping(options: EarlyStoppingOptions = {}): EarlyStopping {
  const mode = options.mode ?? "min";
  if (mode !== "min" && mode !== "max") {
    throw new ValueError("UNKNOWN_NAME", `Unknown mode ${JSON.stringify(mode)}: use one of min, max`);
  }
  const patience = checkFiniteNumber(options.patience ?? 3, "patience", "earlyStopping", { min: 0, integer: true });
  const minDelta = Math.abs(options.minDelta ?? 0);
  let best: number | undefined;
  let bestEpoch = 0;
  let wait = 0;
  let bestWeights: NamedTensor[] | undefined;
  const better = (v: number) => best === undefined || (mode === "min" ? v < best - minDelta : v > best + minDelta);
  return {
    get best() {
      return best;
    },
    get bestEpoch() {
      return bestEpoch;
    },
    onEpochEnd(log, ctx) {
      const key = options.monitor ?? (log.val_loss !== undefined ? "val_loss" : "loss");
      const v = log[key];
      if (typeof v !== "number") {
        throw new ValueError(
          "NOT_FOUND",
          `Early stopping watches "${key}" but the epoch log has no such metric; use one of ${
            Object.keys(log).join(", ")
          }`,
        );
      }
      if (better(v)) {
        best = v;
        bestEpoch = log.epoch;
        wait = 0;
        if (options.restoreBest) bestWeights = ctx.model.getWeights();
      } else if (++wait > patience) {
        ctx.stop(`early_stopping: ${key} did not improve for ${patience} epochs (best ${best} at epoch ${bestEpoch})`);
      }
    },
    onTrainEnd(_history, ctx) {
      if (options.restoreBest && bestWeights) ctx.model.setWeights(bestWeights);
    },
    getState: () => ({ best, bestEpoch, wait }),
    setState(state) {
      const s = state as { best?: number; bestEpoch?: number; wait?: number };
      best = s?.best ?? undefined;
      bestEpoch = s?.bestEpoch ?? 0;
      wait = s?.wait ?? 0;
    },
  };
}

/**
 * Write one JSON line per epoch (and per step with `everyStep`) through `write`.
 *
 * @param write receives each line, ending in `\n` (append it to a file, a stream, an array)
 * @param options `everyStep` to log each batch too (default false)
 * @returns the callback
 * @example
 * ```ts
 * import { jsonlLogger } from "@likeness/trainer";
 * const lines: string[] = [];
 * const logger = jsonlLogger((l) => lines.push(l));
 * console.log(typeof logger.onEpochEnd); // function
 * ```
 */
export function jsonlLogger(write: (line: string) => void, options: { everyStep?: boolean } = {}): Callback {
  return {
    onBatchEnd(info) {
      if (options.everyStep) write(JSON.stringify({ type: "step", ...info }) + "\n");
    },
    onEpochEnd(log) {
      write(JSON.stringify({ type: "epoch", ...log }) + "\n");
    },
  };
}
