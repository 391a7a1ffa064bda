/**
 * Prometheus text-format metrics: request counts and latency histogram by route and status,
 * errors by code, references added.
 *
 * @module
 */

const BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500];

/**
 * In-process metrics registry rendered as Prometheus text (version 0.0.4).
 *
 * @example
 * ```ts
 * import { Metrics } from "@likeness/server";
 * const m = new Metrics();
 * m.request("GET", "/v1/health", 200, 1.2);
 * console.log(m.render({ references: 0 }).includes("likeness_requests_total")); // true
 * ```
 */
export class Metrics {
  #requests = new Map<string, number>();
  #hist = new Map<string, { buckets: number[]; sum: number; count: number }>();
  #errors = new Map<string, number>();
  #added = 0;
  /** Search batches: count, queries, and seconds in the index, making hits, and waiting to fill. */
  #batches = { count: 0, queries: 0, search: 0, hits: 0, fill: 0 };

  /** Count a request and its latency. */
  request(method: string, route: string, status: number, ms: number): void {
    const key = `method="${method}",route="${route}",status="${status}"`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
    const hk = `route="${route}"`;
    let h = this.#hist.get(hk);
    if (!h) this.#hist.set(hk, h = { buckets: BUCKETS_MS.map(() => 0), sum: 0, count: 0 });
    BUCKETS_MS.forEach((b, i) => {
      if (ms <= b) h!.buckets[i]++;
    });
    h.sum += ms / 1000;
    h.count++;
  }

  /** Count an error response by code. */
  error(code: string): void {
    this.#errors.set(code, (this.#errors.get(code) ?? 0) + 1);
  }

  /** Count references written. */
  added(n: number): void {
    this.#added += n;
  }

  /** Count a search batch (see `BatchStats` in `searcher.ts`). */
  searchBatch(s: { queries: number; searchMs: number; hitsMs: number; fillMs: number }): void {
    const b = this.#batches;
    b.count++;
    b.queries += s.queries;
    b.search += s.searchMs / 1000;
    b.hits += s.hitsMs / 1000;
    b.fill += s.fillMs / 1000;
  }

  /** Render all metrics. */
  render(gauges: {
    references: number;
    search?: string;
    index?: { kind: string; memoryBytes: number };
    storeEvents?: Readonly<Record<string, number>>;
  }): string {
    const out: string[] = [];
    out.push("# HELP likeness_requests_total HTTP requests by method, route and status.");
    out.push("# TYPE likeness_requests_total counter");
    for (const [k, v] of this.#requests) out.push(`likeness_requests_total{${k}} ${v}`);
    out.push("# HELP likeness_request_duration_seconds Request latency.");
    out.push("# TYPE likeness_request_duration_seconds histogram");
    for (const [k, h] of this.#hist) {
      BUCKETS_MS.forEach((b, i) =>
        out.push(`likeness_request_duration_seconds_bucket{${k},le="${b / 1000}"} ${h.buckets[i]}`)
      );
      out.push(`likeness_request_duration_seconds_bucket{${k},le="+Inf"} ${h.count}`);
      out.push(`likeness_request_duration_seconds_sum{${k}} ${h.sum}`);
      out.push(`likeness_request_duration_seconds_count{${k}} ${h.count}`);
    }
    out.push("# HELP likeness_errors_total Error responses by code.");
    out.push("# TYPE likeness_errors_total counter");
    for (const [k, v] of this.#errors) out.push(`likeness_errors_total{code="${k}"} ${v}`);
    out.push("# HELP likeness_references_written_total References added or updated.");
    out.push("# TYPE likeness_references_written_total counter");
    out.push(`likeness_references_written_total ${this.#added}`);
    const b = this.#batches;
    out.push("# HELP likeness_search_batches_total Batched index searches (one call serves every query queued).");
    out.push("# TYPE likeness_search_batches_total counter");
    out.push(`likeness_search_batches_total ${b.count}`);
    out.push("# HELP likeness_search_batch_queries_total Queries served by those batches.");
    out.push("# TYPE likeness_search_batch_queries_total counter");
    out.push(`likeness_search_batch_queries_total ${b.queries}`);
    out.push("# HELP likeness_search_phase_seconds_total Time of the batches by phase: index (search call),");
    out.push("# hits (ids, labels, payloads), fill (waiting for the next batch to fill).");
    out.push("# TYPE likeness_search_phase_seconds_total counter");
    out.push(`likeness_search_phase_seconds_total{phase="index"} ${b.search}`);
    out.push(`likeness_search_phase_seconds_total{phase="hits"} ${b.hits}`);
    out.push(`likeness_search_phase_seconds_total{phase="fill"} ${b.fill}`);
    out.push("# HELP likeness_references Live references in the index.");
    out.push("# TYPE likeness_references gauge");
    out.push(`likeness_references ${gauges.references}`);
    if (gauges.search !== undefined) {
      out.push("# HELP likeness_search_mode Where searches run: memory (resident index) or postgres (pgvector).");
      out.push("# TYPE likeness_search_mode gauge");
      out.push(`likeness_search_mode{mode="${gauges.search}"} 1`);
    }
    if (gauges.index) {
      out.push("# HELP likeness_index_kind Kind of the resident reference index (flat, int8, binary, hnsw).");
      out.push("# TYPE likeness_index_kind gauge");
      out.push(`likeness_index_kind{kind="${gauges.index.kind}"} 1`);
      out.push("# HELP likeness_index_memory_bytes Bytes held by the resident reference index.");
      out.push("# TYPE likeness_index_memory_bytes gauge");
      out.push(`likeness_index_memory_bytes ${gauges.index.memoryBytes}`);
    }
    if (gauges.storeEvents) {
      out.push("# HELP likeness_store_events_total Store events since start (PostgreSQL: notifications, catch-ups,");
      out.push(
        "# full reloads after a tombstone purge passed this replica, tombstones purged, unavailable, delivered).",
      );
      out.push("# TYPE likeness_store_events_total counter");
      for (const [event, n] of Object.entries(gauges.storeEvents)) {
        out.push(`likeness_store_events_total{event="${event}"} ${n}`);
      }
    }
    return out.join("\n") + "\n";
  }
}
