/**
 * Checkpoints: model and loss weights, optimiser state and trainer state, stored as named
 * file sets in a {@link CheckpointStore} (in memory here; `DirCheckpointStore` on disk).
 *
 * @module
 */
import { LikenessError } from "@likeness/core";
import { type NamedTensor, packWeights, unpackWeights, type WeightManifest } from "@likeness/models";

/** Where checkpoints live: each is a set of named files. */
export interface CheckpointStore {
  /**
   * Write a checkpoint atomically (replacing one of the same name).
   * @param name e.g. `last`, `best`
   * @param files file name → bytes
   */
  save(name: string, files: Record<string, Uint8Array>): Promise<void>;
  /**
   * Read a checkpoint.
   * @param name checkpoint name
   * @returns its files, or undefined when absent
   */
  load(name: string): Promise<Record<string, Uint8Array> | undefined>;
}

/**
 * In-memory checkpoints.
 *
 * @example
 * ```ts
 * import { MemoryCheckpointStore } from "@likeness/trainer";
 * const store = new MemoryCheckpointStore();
 * await store.save("last", { "a.txt": new Uint8Array([1]) });
 * console.log(Object.keys((await store.load("last"))!)); // ["a.txt"]
 * ```
 */
export class MemoryCheckpointStore implements CheckpointStore {
  readonly #items = new Map<string, Record<string, Uint8Array>>();
  /** @inheritdoc */
  save(name: string, files: Record<string, Uint8Array>): Promise<void> {
    this.#items.set(name, Object.fromEntries(Object.entries(files).map(([k, v]) => [k, v.slice()])));
    return Promise.resolve();
  }
  /** @inheritdoc */
  load(name: string): Promise<Record<string, Uint8Array> | undefined> {
    return Promise.resolve(this.#items.get(name));
  }
}

/** Trainer state inside a checkpoint. */
export interface TrainerState {
  /** Checkpoint format version (1). */
  version: 1;
  /** Epochs completed. */
  epoch: number;
  /** Optimiser steps completed. */
  step: number;
  /** Seed of the run. */
  seed: number;
  /** Optimiser name. */
  optimizer: string;
  /** Optimiser scalar state. */
  optimizerMeta: Record<string, number>;
  /** Epoch logs so far. */
  history: Record<string, number | undefined>[];
  /** Callback states by index. */
  callbacks: unknown[];
}

/** Everything a checkpoint holds. */
export interface CheckpointData {
  /** Trainer state. */
  state: TrainerState;
  /** Model weights (`model/...`), loss weights (`loss/<i>`) and optimiser slots (`opt/...`). */
  tensors: NamedTensor[];
}

/**
 * Serialise a checkpoint into files.
 * @param data state and tensors
 * @returns `state.json`, `tensors.bin`, `tensors.json`
 * @example
 * ```ts
 * import { checkpointToFiles } from "@likeness/trainer";
 * const f = await checkpointToFiles({ state: { version: 1, epoch: 1, step: 3, seed: 0, optimizer: "adam", optimizerMeta: {}, history: [], callbacks: [] }, tensors: [] });
 * console.log(Object.keys(f).sort()); // ["state.json", "tensors.bin", "tensors.json"]
 * ```
 */
export async function checkpointToFiles(data: CheckpointData): Promise<Record<string, Uint8Array>> {
  const { manifest, data: bin } = await packWeights(data.tensors);
  const enc = new TextEncoder();
  return {
    "state.json": enc.encode(JSON.stringify(data.state)),
    "tensors.json": enc.encode(JSON.stringify(manifest)),
    "tensors.bin": bin,
  };
}

/**
 * Parse and verify checkpoint files.
 * @param files as written by {@link checkpointToFiles}
 * @param name checkpoint name for messages
 * @returns state and tensors
 * @throws {LikenessError} CORRUPT when a file is missing, unreadable or fails its checksum
 * @example
 * ```ts
 * import { checkpointFromFiles, checkpointToFiles } from "@likeness/trainer";
 * const f = await checkpointToFiles({ state: { version: 1, epoch: 2, step: 3, seed: 0, optimizer: "adam", optimizerMeta: {}, history: [], callbacks: [] }, tensors: [] });
 * console.log((await checkpointFromFiles(f)).state.epoch); // 2
 * ```
 */
export async function checkpointFromFiles(
  files: Record<string, Uint8Array>,
  name = "checkpoint",
): Promise<CheckpointData> {
  const need = (f: string) => {
    const b = files[f];
    if (!b) {
      throw new LikenessError(
        "CORRUPT",
        `Checkpoint "${name}" has no ${f}; delete it and train from scratch or from another checkpoint`,
      );
    }
    return b;
  };
  let state: TrainerState;
  let manifest: WeightManifest;
  try {
    state = JSON.parse(new TextDecoder().decode(need("state.json")));
    manifest = JSON.parse(new TextDecoder().decode(need("tensors.json")));
  } catch (cause) {
    if (cause instanceof LikenessError) throw cause;
    throw new LikenessError("CORRUPT", `Checkpoint "${name}" has unreadable JSON; delete it and train from scratch`, {
      cause,
    });
  }
  if (state?.version !== 1) {
    throw new LikenessError(
      "CORRUPT",
      `Checkpoint "${name}" has an unknown state version; delete it and train from scratch`,
    );
  }
  const tensors = await unpackWeights(manifest, need("tensors.bin"), `checkpoint "${name}" tensors.bin`);
  return { state, tensors };
}
