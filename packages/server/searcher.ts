/**
 * Search over the reference index with dynamic batching: while one top-k call is in flight,
 * arriving queries wait, and the next call serves all of them at once (one query row each). The
 * kernel streams the reference set once per call, so under load the cost of reading the
 * references is shared by the whole batch; with one client, a query runs at once (no added delay).
 *
 * Filling a batch: the clients a batch answered usually send their next query at once, but it
 * takes the event loop a few turns to read and parse it. So the next batch waits until as many
 * queries are queued as the largest of the last 32 batches held (at most `maxBatch`), for at
 * most `maxWaitMs` [2] or a quarter of the last batch's time, whichever is less, and starts as
 * soon as they are there; one batch in 32 waits that long whatever is queued, so that a larger
 * load is noticed. With one client the target is its own next query: no added delay (but one
 * request in 32). When the next batch is already there it takes one event-loop turn first (so
 * the answers just made are written), through a MessageChannel: the `setTimeout(0)` turn this
 * replaces costs about 1–2 ms in Deno and Bun.
 *
 * With a full `Backend` (one with `info`) a batch searches the index's resident vector index
 * (`ReferenceIndex.resident`): vectors stay in WebAssembly memory, hot-adds append there and
 * deletes are tombstones, so a search copies only its queries. With only a `topk` method, each
 * batch searches one snapshot of the index through `topk`.
 *
 * @module
 */
import type { Backend } from "@likeness/backend";
import type { IndexSnapshot, ReferenceIndex } from "./reference_index.ts";

/** One search result. */
export interface SearchHit {
  /** Reference id. */
  id: string;
  /** Its label. */
  label: string;
  /** Cosine similarity to the query. */
  score: number;
  /** Its payload, if any. */
  payload?: unknown;
}

/** What a searcher reports after each batch (for `/metrics` and the serve bench's breakdown). */
export interface BatchStats {
  /** Queries in the batch. */
  queries: number;
  /** Milliseconds in the index search calls (queries copied in, scan, rerank). */
  searchMs: number;
  /** Milliseconds turning the results into hits (ids, labels, payloads). */
  hitsMs: number;
  /** Milliseconds the batch before it waited for this one to fill (0 when none). */
  fillMs: number;
}

interface Pending {
  vector: Float32Array;
  k: number;
  label?: string;
  resolve(hits: SearchHit[]): void;
  reject(e: unknown): void;
}

/**
 * One turn of the event loop (I/O included) through a MessageChannel: about 10 µs, where
 * `setTimeout(0)` waits 1–2 ms.
 */
function turn(): Promise<void> {
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(null);
  });
}

/**
 * Create a batched cosine searcher over an index.
 *
 * @param index the reference index
 * @param backend compute backend (its `topk` is called once per batch and label filter)
 * @param options `maxBatch`: most queries per call (default 64); `maxWaitMs`: longest wait for a
 *   batch to fill (default 2; 0: never wait); `onBatch`: told each batch's {@link BatchStats}
 * @returns `search(vector, k, label?)`, nearest first
 * @example
 * ```ts
 * import { createSearcher, ReferenceIndex } from "@likeness/server";
 * import { createBackend } from "@likeness/backend";
 * const index = new ReferenceIndex(2);
 * index.upsert([{ id: "a", label: "x", vector: Float32Array.of(1, 0) }]);
 * const search = createSearcher(index, (await createBackend({ tf: false })).backend);
 * console.log(await search(Float32Array.of(1, 0), 1)); // [{ id: "a", label: "x", score: 1 }]
 * ```
 */
export function createSearcher(
  index: ReferenceIndex,
  backend: Pick<Backend, "topk">,
  options: { maxBatch?: number; maxWaitMs?: number; onBatch?: (s: BatchStats) => void } = {},
): (vector: Float32Array, k: number, label?: string) => Promise<SearchHit[]> {
  const maxBatch = options.maxBatch ?? 64;
  const maxWaitMs = options.maxWaitMs ?? 2;
  const onBatch = options.onBatch;
  /** Time of the current batch in its search calls and in making hits (for `onBatch`). */
  let searchMs = 0, hitsMs = 0, fillMs = 0;
  /** Sizes of the last 32 batches (a ring), for the fill target. */
  const recent = new Int32Array(32);
  let batches = 0;
  const queue: Pending[] = [];
  let busy = false;
  /** While the drain waits for a batch to fill: the queue length that ends the wait, and how. */
  let fill: { want: number; go(): void } | null = null;

  /** Wait until `want` queries are queued or `ms` passed (a new query ends it as soon as it is enough). */
  const waitFor = (want: number, ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => go(), ms);
      const go = () => {
        clearTimeout(timer);
        fill = null;
        resolve();
      };
      fill = { want, go };
    });

  const full = "info" in backend ? backend as Backend : undefined;

  const runResident = async (label: string | undefined, items: Pending[]) => {
    let lid: number | undefined;
    if (label !== undefined) {
      lid = index.snapshot().labelIndex.get(label);
      if (lid === undefined) {
        for (const it of items) it.resolve([]);
        return;
      }
    }
    const v = await index.resident(full);
    const dim = index.dim;
    const k = Math.max(...items.map((it) => it.k));
    const query = new Float32Array(items.length * dim);
    items.forEach((it, i) => query.set(it.vector, i * dim));
    const t0 = performance.now();
    const res = await v.search({ data: query, rows: items.length, cols: dim }, {
      k,
      allowFewer: true,
      ...(lid === undefined ? {} : { filter: { labels: [lid] } }),
      ...(index.kind === "hnsw" && index.hnsw.efSearch !== undefined ? { efSearch: index.hnsw.efSearch } : {}),
    });
    const t1 = performance.now();
    searchMs += t1 - t0;
    items.forEach((it, i) => {
      const hits: SearchHit[] = [];
      for (let j = 0; j < Math.min(it.k, res.k); j++) {
        const row = res.ids[i * res.k + j];
        const ref = row < 0 ? undefined : index.itemAt(row);
        if (!ref) continue;
        hits.push({
          id: ref.id,
          label: ref.label,
          score: res.values[i * res.k + j],
          ...(ref.payload === undefined ? {} : { payload: ref.payload }),
        });
      }
      it.resolve(hits);
    });
    hitsMs += performance.now() - t1;
  };

  const runGroup = async (snap: IndexSnapshot, label: string | undefined, items: Pending[]) => {
    if (full) return await runResident(label, items);
    let allow: Int32Array | undefined;
    if (label !== undefined) {
      const lid = snap.labelIndex.get(label);
      if (lid === undefined) {
        for (const it of items) it.resolve([]);
        return;
      }
      allow = Int32Array.of(lid);
    } else if (snap.live < snap.rows) {
      // Retired rows carry label -1: allow every live label id.
      allow = Int32Array.from(snap.labelIndex.values());
    }
    const eligible = label === undefined ? snap.live : snap.rows;
    const k = Math.min(Math.max(...items.map((it) => it.k)), eligible);
    const query = new Float32Array(items.length * snap.dim);
    items.forEach((it, i) => query.set(it.vector, i * snap.dim));
    const reference = { data: snap.data.subarray(0, snap.rows * snap.dim), rows: snap.rows, cols: snap.dim };
    const res = await backend.topk({ data: query, rows: items.length, cols: snap.dim }, reference, {
      k,
      metric: "cosine",
      ...(allow ? { referenceLabels: snap.labelIds.subarray(0, snap.rows), allowLabels: allow } : {}),
    });
    items.forEach((it, i) => {
      const hits: SearchHit[] = [];
      // Results are sorted best first (ties to the lower index), so a query's top-k is a prefix.
      for (let j = 0; j < Math.min(it.k, res.k); j++) {
        const row = res.indices[i * res.k + j];
        const ref = row < 0 ? undefined : snap.items[row];
        if (!ref) continue;
        hits.push({
          id: ref.id,
          label: ref.label,
          score: res.values[i * res.k + j],
          ...(ref.payload === undefined ? {} : { payload: ref.payload }),
        });
      }
      it.resolve(hits);
    });
  };

  const drain = async () => {
    busy = true;
    fillMs = 0;
    try {
      while (queue.length) {
        const started = performance.now();
        searchMs = hitsMs = 0;
        const batch = queue.splice(0, maxBatch);
        const snap = index.snapshot();
        if (snap.live === 0) {
          for (const it of batch) it.resolve([]);
          continue;
        }
        const groups = new Map<string | undefined, Pending[]>();
        for (const it of batch) {
          const g = groups.get(it.label);
          if (g) g.push(it);
          else groups.set(it.label, [it]);
        }
        for (const [label, items] of groups) {
          try {
            await runGroup(snap, label, items);
          } catch (e) {
            for (const it of items) it.reject(e);
          }
        }
        // The clients just answered send their next queries now (the top-k call may also have
        // run on this thread, so requests that arrived meanwhile are not parsed yet): let the
        // next batch fill to this one's size, briefly (see the module doc).
        onBatch?.({ queries: batch.length, searchMs, hitsMs, fillMs });
        recent[batches++ % recent.length] = batch.length;
        const probe = batches % recent.length === 0;
        const want = probe ? maxBatch : Math.min(maxBatch, Math.max(...recent));
        const ms = Math.min(maxWaitMs, (performance.now() - started) / 4);
        const w0 = performance.now();
        if (queue.length < want && ms > 0) await waitFor(want, ms);
        else await turn();
        fillMs = performance.now() - w0;
      }
    } finally {
      busy = false;
    }
  };

  return (vector, k, label) =>
    new Promise<SearchHit[]>((resolve, reject) => {
      queue.push({ vector, k, label, resolve, reject });
      if (!busy) void drain();
      else if (fill && queue.length >= fill.want) fill.go();
    });
}
