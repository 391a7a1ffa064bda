/**
 * The references as the routes see them: a {@link ReferenceReader} over the resident index (or
 * over a store that answers queries itself) and a {@link ReferenceWriter} whose writes are
 * serialised on one {@link WriteQueue}, durable first, then visible.
 *
 * @module
 */
import type { Backend } from "@likeness/backend";
import type { ReferenceIndex } from "./reference_index.ts";
import type { SnapshotWriter } from "./index_snapshot.ts";
import type { Metrics } from "./metrics.ts";
import type { ReferenceReader, ReferenceWriter } from "./routes/context.ts";
import { createSearcher } from "./searcher.ts";
import type { ReferenceStore } from "./store.ts";

/** Runs jobs one after another in call order; a failed job does not stop the next. */
export class WriteQueue {
  #chain: Promise<unknown> = Promise.resolve();

  /** Run `f` after every job queued before it. */
  run<T>(f: () => T | Promise<T>): Promise<T> {
    const job = this.#chain.then(f);
    this.#chain = job.catch(() => {});
    return job;
  }

  /** Resolves once every job queued so far has finished. */
  async idle(): Promise<void> {
    await this.#chain;
  }
}

/**
 * The reader: the store's own queries when it has them (nothing resident), else the resident
 * index with the batched searcher.
 */
export function referenceReader(
  store: ReferenceStore,
  index: ReferenceIndex,
  backend: Backend,
  metrics?: Pick<Metrics, "searchBatch">,
): ReferenceReader {
  const remote = store.query;
  if (remote) {
    return {
      mode: remote.mode,
      search: (v, k, label) => remote.search(v, k, label),
      get: (id) => remote.get(id),
      count: () => remote.count(),
    };
  }
  return {
    mode: "memory",
    search: createSearcher(index, backend, metrics ? { onBatch: (s) => metrics.searchBatch(s) } : {}),
    get: (id) => Promise.resolve(index.get(id)),
    count: () => Promise.resolve(index.size),
  };
}

/** What the writer touches. */
export interface WriterParts {
  /** Where writes go first. */
  store: ReferenceStore;
  /** The resident index (updated after the store, unless the store answers queries). */
  index: ReferenceIndex;
  /** The queue every write (and snapshot, and compaction) runs on. */
  queue: WriteQueue;
  /** Counts added or updated references. */
  metrics: Pick<Metrics, "added">;
  /** Told how many items changed. */
  snapshots?: Pick<SnapshotWriter, "changed">;
}

/** The writer: store first (durable), then the index (visible), then snapshot and compaction bookkeeping. */
export function referenceWriter({ store, index, queue, metrics, snapshots }: WriterParts): ReferenceWriter {
  const remote = store.query !== undefined;
  const maybeCompact = async () => {
    if (store.needsCompaction && store.compact) await queue.run(() => store.compact!(index.entries()));
  };
  return {
    async put(items) {
      const r = await queue.run(async () => {
        const done = await store.write({ put: items });
        return remote ? { added: done?.added ?? items.length, updated: done?.updated ?? 0 } : index.upsert(items);
      });
      metrics.added(r.added + r.updated);
      snapshots?.changed(r.added + r.updated);
      await maybeCompact();
      return r;
    },
    async delete(id) {
      const deleted = await queue.run(async () => {
        if (remote) return ((await store.write({ delete: [id] }))?.deleted ?? 1) > 0;
        if (!index.get(id)) return false;
        await store.write({ delete: [id] });
        return index.delete(id);
      });
      if (!deleted) return false;
      snapshots?.changed(1);
      await maybeCompact();
      return true;
    },
  };
}
