/**
 * A durable on-disk reference store: an append-only log of checksummed records, synced to disk
 * before a write is acknowledged, plus a snapshot written on compaction.
 *
 * Record format (little-endian): `u32 magic 0x4c4b4e31 ("LKN1") | u32 length | u32 crc32(payload) | payload`,
 * payload = UTF-8 JSON `{ "put": [...] }` or `{ "delete": [...] }` (vectors as number arrays;
 * float32 values round-trip exactly through JSON). Loading replays `snapshot.log` then `wal.log`;
 * the first record whose header, length or checksum does not verify ends the log: it and
 * everything after it are a torn tail (a crash during a write that was never acknowledged),
 * truncated away and never loaded.
 *
 * Compaction writes the live items to `snapshot.tmp`, fsyncs it, renames it over `snapshot.log`,
 * fsyncs the directory, then truncates the WAL.
 *
 * Uses `node:fs`, which Deno and Bun both provide. One writer process per directory.
 *
 * @module
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { LikenessError } from "@likeness/core";
import { crc32 } from "./crc32.ts";
import type { ReferenceItem } from "./reference_index.ts";
import type { ReferenceStore, StoreWrite } from "./store.ts";

const MAGIC = 0x4c4b4e31;
const HEADER = 12;

interface Rec {
  put?: { id: string; label: string; vector: number[]; payload?: unknown }[];
  delete?: string[];
}

function encodeRecord(rec: Rec): Uint8Array {
  const payload = new TextEncoder().encode(JSON.stringify(rec));
  const out = new Uint8Array(HEADER + payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, payload.length, true);
  dv.setUint32(8, crc32(payload), true);
  out.set(payload, HEADER);
  return out;
}

/** Parse records; returns them and the byte length of the valid prefix. */
function decodeLog(bytes: Uint8Array): { records: Rec[]; validBytes: number } {
  const records: Rec[] = [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at + HEADER <= bytes.length) {
    if (dv.getUint32(at, true) !== MAGIC) break;
    const len = dv.getUint32(at + 4, true);
    if (at + HEADER + len > bytes.length) break;
    const payload = bytes.subarray(at + HEADER, at + HEADER + len);
    if (crc32(payload) !== dv.getUint32(at + 8, true)) break;
    try {
      records.push(JSON.parse(new TextDecoder().decode(payload)));
    } catch {
      break;
    }
    at += HEADER + len;
  }
  return { records, validBytes: at };
}

/** Options for {@link FileStore}. */
export interface FileStoreOptions {
  /** Compact when the WAL exceeds this many bytes (default 64 MiB). */
  compactBytes?: number;
  /** fsync each write before acknowledging (default true; false only for benchmarks). */
  sync?: boolean;
  /** Only read (for migration): never truncate a torn tail, never open the log for writing [false]. */
  readOnly?: boolean;
}

/**
 * Durable append-only log store in a directory.
 *
 * @example
 * ```ts
 * import { FileStore } from "@likeness/server";
 * const store = new FileStore("./data");
 * const items = await store.load();
 * ```
 */
export class FileStore implements ReferenceStore {
  /** The directory. */
  readonly dir: string;
  /** Bytes dropped from a torn tail at the last load. */
  tornBytes = 0;
  #fd = -1;
  #walBytes = 0;
  #opts: Required<Omit<FileStoreOptions, "readOnly">>;
  #readOnly: boolean;
  #queue: Promise<void> = Promise.resolve();

  /**
   * @param dir directory (created if missing)
   * @param options compaction threshold and sync policy
   */
  constructor(dir: string, options: FileStoreOptions = {}) {
    this.dir = dir;
    this.#opts = { compactBytes: options.compactBytes ?? 64 * 1024 * 1024, sync: options.sync ?? true };
    this.#readOnly = options.readOnly ?? false;
  }

  /** Replay snapshot and WAL; truncate a torn tail. */
  load(): Promise<ReferenceItem[]> {
    if (!this.#readOnly) mkdirSync(this.dir, { recursive: true });
    const live = new Map<string, ReferenceItem>();
    const apply = (recs: Rec[]) => {
      for (const r of recs) {
        for (const p of r.put ?? []) {
          live.set(p.id, { id: p.id, label: p.label, vector: Float32Array.from(p.vector), payload: p.payload });
        }
        for (const id of r.delete ?? []) live.delete(id);
      }
    };
    const snapPath = join(this.dir, "snapshot.log");
    if (existsSync(snapPath)) {
      const bytes = readFileSync(snapPath);
      const { records, validBytes } = decodeLog(bytes);
      if (validBytes !== bytes.length) {
        throw new LikenessError(
          "CORRUPT",
          `Reference snapshot ${snapPath} is corrupt at byte ${validBytes}; restore it from a backup or delete it to start from the WAL alone`,
        );
      }
      apply(records);
    }
    const walPath = join(this.dir, "wal.log");
    const bytes = existsSync(walPath) ? readFileSync(walPath) : new Uint8Array(0);
    const { records, validBytes } = decodeLog(bytes);
    apply(records);
    this.tornBytes = bytes.length - validBytes;
    if (this.#readOnly) return Promise.resolve([...live.values()]);
    this.#fd = openSync(walPath, "a+");
    if (this.tornBytes > 0) {
      ftruncateSync(this.#fd, validBytes);
      fsyncSync(this.#fd);
    }
    this.#walBytes = validBytes;
    return Promise.resolve([...live.values()]);
  }

  /** Append a record and fsync it; writes are serialised. */
  write(w: StoreWrite): Promise<void> {
    const rec: Rec = {};
    if (w.put?.length) {
      rec.put = w.put.map((it) => ({
        id: it.id,
        label: it.label,
        vector: Array.from(it.vector),
        ...(it.payload === undefined ? {} : { payload: it.payload }),
      }));
    }
    if (w.delete?.length) rec.delete = [...w.delete];
    const bytes = encodeRecord(rec);
    const job = this.#queue.then(() => {
      if (this.#fd < 0) throw new LikenessError("UNSUPPORTED", "FileStore is not open: call load() first");
      let off = 0;
      while (off < bytes.length) off += writeSync(this.#fd, bytes, off, bytes.length - off);
      if (this.#opts.sync) fsyncSync(this.#fd);
      this.#walBytes += bytes.length;
    });
    this.#queue = job.catch(() => {});
    return job;
  }

  /** Whether the WAL has grown past the compaction threshold. */
  get needsCompaction(): boolean {
    return this.#walBytes > this.#opts.compactBytes;
  }

  /** Write a snapshot of the live items, then truncate the WAL. */
  compact(live: Iterable<ReferenceItem>): Promise<void> {
    const items = [...live];
    const job = this.#queue.then(() => {
      const tmp = join(this.dir, "snapshot.tmp");
      const fd = openSync(tmp, "w");
      try {
        for (let i = 0; i < items.length; i += 1000) {
          const bytes = encodeRecord({
            put: items.slice(i, i + 1000).map((it) => ({
              id: it.id,
              label: it.label,
              vector: Array.from(it.vector),
              ...(it.payload === undefined ? {} : { payload: it.payload }),
            })),
          });
          let off = 0;
          while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
        }
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, join(this.dir, "snapshot.log"));
      try {
        const dfd = openSync(this.dir, "r");
        fsyncSync(dfd);
        closeSync(dfd);
      } catch {
        // Directory fsync is not supported everywhere; the rename is still atomic.
      }
      ftruncateSync(this.#fd, 0);
      fsyncSync(this.#fd);
      this.#walBytes = 0;
    });
    this.#queue = job.catch(() => {});
    return job;
  }

  /** "file:<dir>". */
  describe(): string {
    return `file:${this.dir}`;
  }

  /** Wait for pending writes and close the WAL. */
  async close(): Promise<void> {
    await this.#queue;
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }
}
