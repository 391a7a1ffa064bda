/**
 * A saved snapshot of the server's reference index beside its SQLite store, so a restart loads
 * one file instead of re-adding every vector: the JS side of the {@link ReferenceIndex} (ids,
 * labels, payloads, row numbers) and the resident index in its saved format (vectors and, for
 * `hnsw`, the graph), tagged with the store's sequence number (the last committed batch it holds).
 *
 * - **Start** ({@link openReferenceIndex}): load the snapshot when it is intact (checksums), of
 *   this data (store id, dimension), of the asked kind and parameters and not ahead of the store;
 *   then apply only the store's changes after its sequence number and check the live count against
 *   the store. Anything else is logged with its reason and the server loads every reference from
 *   the store instead (and writes a fresh snapshot): a bad snapshot costs time, never results.
 * - **Writing** ({@link SnapshotWriter}): atomically (temp file, fsync, rename, fsync of the
 *   directory), after a number of changes, on a timer when something changed, and on clean
 *   shutdown. The state is taken between two writes, so it matches the sequence number exactly.
 *
 * File format (little-endian):
 *
 * ```
 * offset  size  field
 * 0       4     magic "LKSN"
 * 4       2     format version (u16, 1)
 * 6       2     reserved (0)
 * 8       8     store sequence number (u64): the last committed batch the snapshot holds
 * 16      4     dim (u32)
 * 20      4     state length S (u32)
 * 24      4     CRC-32 of the state
 * 28      4     CRC-32 of bytes 0..27
 * 32      S     state: u32 J, J bytes of JSON head (store id, kind, parameters, rows, labels,
 *               payloads), zero padding to 4, then int32 × n rows, int32 × n label ids,
 *               u32 × n id lengths (UTF-16 units), UTF-8 of the ids joined
 * 32+S    ...   zero padding to 8, then the resident index's saved bytes (the backend's "LKIX"
 *               format, which carries its own CRC-32) to the end of the file
 * ```
 *
 * @module
 */
import { closeSync, existsSync, fsyncSync, openSync } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { LikenessError } from "@likeness/core";
import {
  type Backend,
  crc32,
  decodeIndex,
  HNSW_PARAM_RANGES,
  type HnswParams,
  type IndexKind,
  loadIndex,
  type VectorIndex,
} from "@likeness/backend";
import {
  ReferenceIndex,
  type ReferenceIndexOptions,
  type ReferenceIndexState,
  type ReferenceItem,
} from "./reference_index.ts";
import type { ReferenceStore, StoreChanges } from "./store.ts";

/** Magic "LKSN". */
const MAGIC = 0x4e534b4c;
const VERSION = 1;
const HEAD = 32;

/** The JSON head of the state. */
interface StateHead {
  uid: string;
  kind: IndexKind;
  hnsw: Required<Pick<HnswParams, "M" | "efConstruction" | "seed">> | null;
  rows: number;
  dead: number;
  count: number;
  labels: string[];
  payloads: [number, unknown][];
}

/** A decoded snapshot (state checked; the resident index bytes not yet). */
export interface DecodedSnapshot {
  /** Store sequence number the snapshot holds. */
  seq: number;
  /** Dimension. */
  dim: number;
  /** Store id it was taken from. */
  uid: string;
  /** Index kind. */
  kind: IndexKind;
  /** HNSW build parameters (M, efConstruction, seed), or null for the other kinds. */
  hnsw: StateHead["hnsw"];
  /** The JS side of the index. */
  state: ReferenceIndexState;
  /** The resident index's saved bytes (a view). */
  index: Uint8Array;
}

function corrupt(why: string): LikenessError {
  return new LikenessError("CORRUPT", `index snapshot is damaged: ${why}`);
}

/** The HNSW parameters that shape the graph (efSearch does not: it is per search). */
function graphParams(o: ReferenceIndexOptions): StateHead["hnsw"] {
  if ((o.kind ?? "flat") !== "hnsw") return null;
  const r = HNSW_PARAM_RANGES;
  return {
    M: o.hnsw?.M ?? r.M[2],
    efConstruction: o.hnsw?.efConstruction ?? r.efConstruction[2],
    seed: o.hnsw?.seed ?? r.seed[2],
  };
}

/**
 * Encode a snapshot into its parts (header + state, padding, index bytes), to be written in order.
 *
 * @param seq store sequence number
 * @param dim dimension
 * @param uid store id
 * @param options the index's kind and parameters
 * @param state the JS side ({@link ReferenceIndex._save})
 * @param index the resident index's saved bytes
 * @returns the file's bytes in parts
 * @example
 * ```ts
 * import { decodeSnapshot, encodeSnapshot } from "@likeness/server";
 * const state = { rows: 1, dead: 0, labels: ["x"], liveRows: Int32Array.of(0), labelIds: Int32Array.of(0), ids: ["a"], payloads: [] };
 * const parts = encodeSnapshot(7, 2, "uid", { kind: "flat" }, state, new Uint8Array(0));
 * const bytes = new Uint8Array(await new Blob(parts as Uint8Array<ArrayBuffer>[]).arrayBuffer());
 * console.log(decodeSnapshot(bytes).seq); // 7
 * ```
 */
export function encodeSnapshot(
  seq: number,
  dim: number,
  uid: string,
  options: ReferenceIndexOptions,
  state: ReferenceIndexState,
  index: Uint8Array,
): Uint8Array[] {
  const n = state.liveRows.length;
  const head: StateHead = {
    uid,
    kind: options.kind ?? "flat",
    hnsw: graphParams(options),
    rows: state.rows,
    dead: state.dead,
    count: n,
    labels: state.labels,
    payloads: state.payloads,
  };
  const json = new TextEncoder().encode(JSON.stringify(head));
  const text = new TextEncoder().encode(state.ids.join(""));
  const lens = new Uint32Array(n);
  for (let i = 0; i < n; i++) lens[i] = state.ids[i].length;
  const jsonPad = (4 - ((4 + json.length) % 4)) % 4;
  const stateLen = 4 + json.length + jsonPad + 12 * n + text.length;
  const st = new Uint8Array(stateLen);
  const sdv = new DataView(st.buffer);
  sdv.setUint32(0, json.length, true);
  st.set(json, 4);
  let at = 4 + json.length + jsonPad;
  st.set(new Uint8Array(state.liveRows.buffer, state.liveRows.byteOffset, 4 * n), at);
  at += 4 * n;
  st.set(new Uint8Array(state.labelIds.buffer, state.labelIds.byteOffset, 4 * n), at);
  at += 4 * n;
  st.set(new Uint8Array(lens.buffer), at);
  at += 4 * n;
  st.set(text, at);
  const h = new Uint8Array(HEAD);
  const dv = new DataView(h.buffer);
  dv.setUint32(0, MAGIC, true);
  dv.setUint16(4, VERSION, true);
  dv.setBigUint64(8, BigInt(seq), true);
  dv.setUint32(16, dim, true);
  dv.setUint32(20, stateLen, true);
  dv.setUint32(24, crc32(st), true);
  dv.setUint32(28, crc32(h.subarray(0, 28)), true);
  const pad = new Uint8Array((8 - ((HEAD + stateLen) % 8)) % 8);
  return [h, st, pad, index];
}

/**
 * Decode and check a snapshot's header and state (the index bytes carry their own checksum,
 * checked when they are loaded).
 *
 * @param bytes the whole file
 * @returns the decoded snapshot
 * @throws {LikenessError} CORRUPT for truncated, damaged or foreign bytes; UNSUPPORTED for a newer version
 * @example
 * ```ts
 * import { decodeSnapshot } from "@likeness/server";
 * try { decodeSnapshot(new Uint8Array(64)); } catch (e) { console.log((e as { code: string }).code); } // CORRUPT
 * ```
 */
export function decodeSnapshot(bytes: Uint8Array): DecodedSnapshot {
  if (bytes.length < HEAD) throw corrupt(`only ${bytes.length} bytes`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0, true) !== MAGIC) throw corrupt("wrong magic (not a likeness index snapshot)");
  if (crc32(bytes.subarray(0, 28)) !== dv.getUint32(28, true)) throw corrupt("header checksum mismatch");
  const version = dv.getUint16(4, true);
  if (version !== VERSION) {
    throw new LikenessError("UNSUPPORTED", `index snapshot format version ${version}; this server reads ${VERSION}`);
  }
  const seq = Number(dv.getBigUint64(8, true));
  const dim = dv.getUint32(16, true);
  const stateLen = dv.getUint32(20, true);
  if (HEAD + stateLen > bytes.length) throw corrupt("truncated state");
  const st = bytes.subarray(HEAD, HEAD + stateLen);
  if (crc32(st) !== dv.getUint32(24, true)) throw corrupt("state checksum mismatch");
  const sdv = new DataView(st.buffer, st.byteOffset, st.byteLength);
  const jsonLen = sdv.getUint32(0, true);
  if (4 + jsonLen > stateLen) throw corrupt("state head runs past the state");
  let head: StateHead;
  try {
    head = JSON.parse(new TextDecoder().decode(st.subarray(4, 4 + jsonLen)));
  } catch {
    throw corrupt("state head is not JSON");
  }
  const n = head.count;
  let at = 4 + jsonLen + ((4 - ((4 + jsonLen) % 4)) % 4);
  if (!Number.isInteger(n) || n < 0 || at + 12 * n > stateLen) throw corrupt("bad item count");
  const i32 = (count: number) => {
    const out = new Int32Array(count);
    out.set(new Int32Array(st.slice(at, at + 4 * count).buffer));
    at += 4 * count;
    return out;
  };
  const liveRows = i32(n), labelIds = i32(n);
  const lens = new Uint32Array(st.slice(at, at + 4 * n).buffer);
  at += 4 * n;
  const text = new TextDecoder().decode(st.subarray(at));
  const ids: string[] = new Array(n);
  let c = 0;
  for (let i = 0; i < n; i++) {
    ids[i] = text.slice(c, c + lens[i]);
    c += lens[i];
  }
  if (c !== text.length) throw corrupt("id lengths do not add up");
  for (let i = 0; i < n; i++) {
    if (labelIds[i] < 0 || labelIds[i] >= head.labels.length) throw corrupt(`bad label id ${labelIds[i]}`);
    if (liveRows[i] < 0 || liveRows[i] >= head.rows || (i > 0 && liveRows[i] <= liveRows[i - 1])) {
      throw corrupt(`bad row ${liveRows[i]}`);
    }
  }
  const indexAt = HEAD + stateLen + ((8 - ((HEAD + stateLen) % 8)) % 8);
  if (indexAt > bytes.length) throw corrupt("no index bytes");
  return {
    seq,
    dim,
    uid: head.uid,
    kind: head.kind,
    hnsw: head.hnsw,
    state: { rows: head.rows, dead: head.dead, labels: head.labels, liveRows, labelIds, ids, payloads: head.payloads },
    index: bytes.subarray(indexAt),
  };
}

/**
 * Write bytes to a file atomically: a temp file beside it, fsync, rename over it, fsync of the
 * directory. A crash leaves the old file or the new one, never a mix.
 *
 * @param path the file
 * @param parts its bytes, in order
 * @throws the file system's error (the temp file is removed; the old file is untouched)
 * @example
 * ```ts
 * import { writeFileAtomic } from "@likeness/server";
 * await writeFileAtomic(`${await Deno.makeTempDir()}/f.bin`, [Uint8Array.of(1, 2), Uint8Array.of(3)]);
 * ```
 */
export async function writeFileAtomic(path: string, parts: Uint8Array[]): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, "w");
  try {
    for (const p of parts) {
      let off = 0;
      while (off < p.length) {
        const { bytesWritten } = await fh.write(p, off, Math.min(p.length - off, 64 << 20));
        off += bytesWritten;
      }
    }
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => {});
    await rm(tmp, { force: true }).catch(() => {});
    throw e;
  }
  await fh.close();
  await rename(tmp, path);
  try {
    const fd = openSync(dirname(path), "r");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some file systems cannot fsync a directory; the rename is still atomic.
  }
}

/**
 * A snapshot file into one new buffer, in 16 MiB reads, each read running (on the runtime's I/O
 * thread) while the CRC-32 of the bytes before it is computed: the resident index's checksum
 * (bytes from its start to the 4 before the end) is known when the read ends, so nothing reads the
 * 500 MB twice. A file too short for a header is returned as it is (`decodeSnapshot` refuses it).
 */
async function readChecking(path: string): Promise<{ bytes: Uint8Array; indexCrc?: number; indexFrom?: number }> {
  const fh = await open(path, "r");
  try {
    const size = (await fh.stat()).size;
    const out = new Uint8Array(size);
    const CHUNK = 16 << 20;
    let off = 0;
    const readAt = async (at: number) => {
      let got = 0;
      const want = Math.min(CHUNK, size - at);
      while (got < want) {
        const { bytesRead } = await fh.read(out, at + got, want - got, at + got);
        if (bytesRead <= 0) break;
        got += bytesRead;
      }
      return got;
    };
    let next = size > 0 ? readAt(0) : Promise.resolve(0);
    // The index part starts after the header and state (known from the header), padded to 8.
    let from = -1, crc = 0;
    const to = size - 4;
    while (off < size) {
      const got = await next;
      if (got <= 0) break;
      const start = off;
      off += got;
      next = off < size ? readAt(off) : Promise.resolve(0);
      if (from < 0 && off >= HEAD) {
        const len = new DataView(out.buffer, 0, HEAD).getUint32(20, true);
        const end = HEAD + len;
        from = end + ((8 - (end % 8)) % 8);
      }
      if (from >= 0) {
        const a = Math.max(start, from), b = Math.min(off, to);
        if (b > a) crc = crc32(out.subarray(a, b), crc);
      }
    }
    await next;
    const bytes = off === size ? out : out.subarray(0, off);
    return from >= 0 && from < to && off === size ? { bytes, indexCrc: crc, indexFrom: from } : { bytes };
  } finally {
    await fh.close();
  }
}

/** A store that can report its changes after a sequence number (what snapshots need). */
type SnapshotStore = ReferenceStore & Required<Pick<ReferenceStore, "changesSince">> & { uid?: string };

/** Options of {@link openReferenceIndex}. */
export interface OpenIndexOptions {
  /** The store. */
  store: ReferenceStore;
  /** Vector dimension. */
  dim: number;
  /** Where the resident index runs (a full backend builds it at once). */
  backend?: Backend;
  /** Index kind and parameters. */
  index?: ReferenceIndexOptions;
  /** The snapshot file (omit: always load from the store). */
  snapshotPath?: string;
  /** Called for every item that comes from the store (throw to refuse it). */
  check?: (it: ReferenceItem) => void;
  /** Log lines (default console.error). */
  log?: (line: string) => void;
  /** A CPU clock in ms (the entry point's `process.cpuUsage`), to report CPU per phase too. */
  cpuMs?: () => number;
}

/** What {@link openReferenceIndex} did. */
export interface OpenedIndex {
  /** The index. */
  index: ReferenceIndex;
  /** `snapshot` (loaded, then `applied` later changes) or `store` (every reference loaded). */
  source: "snapshot" | "store";
  /** Changes applied after the snapshot (items put + ids deleted). */
  applied: number;
  /** Sequence number of the snapshot that was loaded. */
  snapshotSeq?: number;
  /** Why the snapshot was not used, when there was one. */
  fallback?: string;
  /** Milliseconds taken. */
  ms: number;
  /** Milliseconds per phase of a snapshot load (read, decode, resident, restore, changes). */
  phases?: Record<string, number>;
  /** CPU milliseconds per phase, when {@link OpenIndexOptions.cpuMs} was given. */
  phasesCpu?: Record<string, number>;
}

function canSnapshot(store: ReferenceStore): store is SnapshotStore {
  return typeof store.changesSince === "function" && typeof (store as { uid?: unknown }).uid === "string";
}

/**
 * Open the server's reference index: from the snapshot plus the store's later changes when the
 * snapshot is sound, else from every reference in the store (see the module doc).
 *
 * @param o store, dimension, backend, kind, snapshot path
 * @returns the index and where it came from
 * @throws whatever the store throws when it cannot load (e.g. CORRUPT), or `check`'s error
 * @example
 * ```ts
 * import { MemoryStore, openReferenceIndex } from "@likeness/server";
 * const store = new MemoryStore([{ id: "a", label: "x", vector: Float32Array.of(1, 0) }]);
 * const { index, source } = await openReferenceIndex({ store, dim: 2 });
 * console.log(index.size, source); // 1 store
 * index.dispose();
 * ```
 */
export async function openReferenceIndex(o: OpenIndexOptions): Promise<OpenedIndex> {
  const t0 = performance.now();
  const log = o.log ?? ((l: string) => console.error(l));
  const opts = o.index ?? {};
  const full = o.backend && "info" in o.backend ? o.backend : undefined;
  let fallback: string | undefined;
  if (o.snapshotPath && !o.store.query && canSnapshot(o.store) && existsSync(o.snapshotPath)) {
    let resident: VectorIndex | undefined;
    try {
      const r = await fromSnapshot(o.store, o.snapshotPath, o.dim, opts, full, o.check, (v) => resident = v, o.cpuMs);
      return { ...r, source: "snapshot", ms: performance.now() - t0 };
    } catch (e) {
      resident?.dispose();
      fallback = (e as Error).message;
      log(
        `likeness: index snapshot ${o.snapshotPath} not used (${fallback}); loading every reference from the store and writing a new snapshot`,
      );
    }
  }
  const index = new ReferenceIndex(o.dim, opts);
  let items: ReferenceItem[];
  if (o.store.query) items = [];
  else items = await o.store.load();
  if (o.check) { for (const it of items) o.check(it); }
  if (items.length) index.upsert(items);
  if (full) await index.resident(full);
  return { index, source: "store", applied: 0, ...(fallback ? { fallback } : {}), ms: performance.now() - t0 };
}

async function fromSnapshot(
  store: SnapshotStore,
  path: string,
  dim: number,
  opts: ReferenceIndexOptions,
  backend: Backend | undefined,
  check: ((it: ReferenceItem) => void) | undefined,
  made: (v: VectorIndex) => void,
  cpuMs: (() => number) | undefined,
): Promise<{
  index: ReferenceIndex;
  applied: number;
  snapshotSeq: number;
  phases: Record<string, number>;
  phasesCpu?: Record<string, number>;
}> {
  const phases: Record<string, number> = {};
  const phasesCpu: Record<string, number> = {};
  let t = performance.now(), c = cpuMs?.() ?? 0;
  const lap = (name: string) => {
    const now = performance.now();
    phases[name] = Math.round(now - t);
    t = now;
    if (cpuMs) {
      const cNow = cpuMs();
      phasesCpu[name] = Math.round(cNow - c);
      c = cNow;
    }
  };
  const { bytes, indexCrc, indexFrom } = await readChecking(path);
  lap("read");
  const snap = decodeSnapshot(bytes);
  lap("state");
  if (snap.dim !== dim) throw new Error(`it holds ${snap.dim}-dimensional vectors, the store ${dim}`);
  if (snap.uid !== store.uid) throw new Error(`it was taken from another store (id ${snap.uid}, not ${store.uid})`);
  const kind = opts.kind ?? "flat";
  if (snap.kind !== kind) throw new Error(`it holds a "${snap.kind}" index, "${kind}" was asked for`);
  if (JSON.stringify(snap.hnsw) !== JSON.stringify(graphParams(opts))) {
    throw new Error(
      `its hnsw parameters ${JSON.stringify(snap.hnsw)} differ from ${JSON.stringify(graphParams(opts))}`,
    );
  }
  // The index part's CRC-32 was computed while the file was read (when the file is as long as the
  // header says; else decodeIndex computes it from the bytes and refuses them).
  const indexStart = snap.index.byteOffset - bytes.byteOffset;
  const decoded = decodeIndex(
    snap.index,
    indexCrc !== undefined && indexStart === indexFrom ? { checksum: indexCrc } : {},
  );
  lap("checksum");
  const resident = await loadIndex(decoded, backend, {
    dim,
    ...(kind === "hnsw" && opts.buildThreads !== undefined ? { buildThreads: opts.buildThreads } : {}),
    // The walk's rows are not part of the graph's identity: a float32 snapshot serves --hnsw-codes int8.
    ...(kind === "hnsw" && opts.hnsw?.codes !== undefined ? { codes: opts.hnsw.codes } : {}),
  });
  made(resident);
  lap("resident");
  const { state } = snap;
  const n = state.liveRows.length;
  if (resident.kind !== kind || resident.metric !== "cosine") {
    throw new Error(`its resident index is ${resident.kind}/${resident.metric}`);
  }
  if (resident.size !== n) throw new Error(`its resident index holds ${resident.size} rows, its state ${n}`);
  for (let i = 0; i < n; i++) {
    if (!resident.has(state.liveRows[i])) {
      throw new Error(`row ${state.liveRows[i]} is missing from its resident index`);
    }
  }
  // Item vectors: views of the saved rows (unit-normalised for cosine, as the resident index holds them).
  const ids = decoded.sections.get("IDS ")!, vecs = decoded.sections.get("VECS")!;
  const pos = new Int32Array(ids.slice().buffer);
  const aligned = vecs.byteOffset % 4 === 0 ? vecs : vecs.slice();
  const rowsF = new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength >> 2);
  if (rowsF.length !== pos.length * dim) throw new Error("its saved vectors do not match its ids");
  const at = new Int32Array(n);
  // Positions are in id order for every kind here (rows only grow); a map covers any other order.
  let p = 0, ordered = true;
  for (let i = 0; i < n && ordered; i++) {
    while (p < pos.length && pos[p] < state.liveRows[i]) p++;
    if (p < pos.length && pos[p] === state.liveRows[i]) at[i] = p++;
    else ordered = false;
  }
  if (!ordered) {
    const where = new Map<number, number>();
    for (let q = 0; q < pos.length; q++) where.set(pos[q], q);
    for (let i = 0; i < n; i++) at[i] = where.get(state.liveRows[i]) ?? -1;
  }
  const index = ReferenceIndex._restore(dim, opts, state, resident, (i) => {
    const q = at[i];
    return q < 0 ? new Float32Array(dim) : rowsF.subarray(q * dim, (q + 1) * dim);
  });
  lap("restore");
  const changes: StoreChanges = await store.changesSince(snap.seq);
  lap("changes");
  if (snap.seq > changes.seq) {
    throw new Error(
      `it holds batch ${snap.seq} but the store ends at batch ${changes.seq} (a store restored from a backup?)`,
    );
  }
  for (const it of changes.put) check?.(it);
  for (const id of changes.delete) index.delete(id);
  if (changes.put.length) index.upsert(changes.put);
  if (index.size !== changes.live) {
    throw new Error(
      `after its ${
        changes.put.length + changes.delete.length
      } later changes it holds ${index.size} references, the store ${changes.live}`,
    );
  }
  lap("apply");
  return {
    index,
    applied: changes.put.length + changes.delete.length,
    snapshotSeq: snap.seq,
    phases,
    ...(cpuMs ? { phasesCpu } : {}),
  };
}

/** Options of {@link SnapshotWriter}. */
export interface SnapshotWriterOptions {
  /** The snapshot file. */
  path: string;
  /** The index. */
  index: ReferenceIndex;
  /** The store (its `seq` and `uid` tag the snapshot). */
  store: ReferenceStore & { seq?: number; uid?: string };
  /** Where the resident index runs. */
  backend?: Backend;
  /** Write after this many changes (items put + ids deleted) [10,000]. */
  everyChanges?: number;
  /** Write on this timer when something changed, in ms (0: no timer) [300,000]. */
  intervalMs?: number;
  /**
   * Runs `f` between two writes (the server's write queue), so the state and the sequence number
   * match; default: at once.
   */
  serialize?: <T>(f: () => T) => Promise<T>;
  /** Log lines (default console.error). */
  log?: (line: string) => void;
}

/**
 * Writes the index snapshot of a {@link ReferenceIndex} beside its store: after `everyChanges`
 * changes, on a timer when something changed, and on {@link SnapshotWriter.close}.
 *
 * @example
 * ```ts
 * import { MemoryStore, ReferenceIndex, SnapshotWriter } from "@likeness/server";
 * const index = new ReferenceIndex(2);
 * const w = new SnapshotWriter({ path: `${await Deno.makeTempDir()}/index.snap`, index, store: new MemoryStore() });
 * console.log(w.enabled); // false: a memory store has no sequence number
 * await w.close();
 * index.dispose();
 * ```
 */
export class SnapshotWriter {
  /** The snapshot file. */
  readonly path: string;
  #o: SnapshotWriterOptions;
  #pending = 0;
  #writing: Promise<void> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  #last: { seq: number; ms: number; bytes: number; at: string } | undefined;
  #error: string | undefined;
  #retryAt = 0;

  /** @param options path, index, store, thresholds */
  constructor(options: SnapshotWriterOptions) {
    this.#o = options;
    this.path = options.path;
    const every = options.intervalMs ?? 300_000;
    if (this.enabled && every > 0) {
      this.#timer = setInterval(() => {
        if (this.#pending > 0) void this.write().catch(() => {});
      }, every);
      (this.#timer as { unref?: () => void }).unref?.();
    }
  }

  /** Whether snapshots can be written (a writable store with a sequence number and an id). */
  get enabled(): boolean {
    const s = this.#o.store;
    return typeof s.seq === "number" && typeof s.uid === "string" && !s.health?.().readOnly;
  }

  /** The last snapshot written (sequence number, ms, bytes, time) and the last error, for health. */
  status(): { seq?: number; ms?: number; bytes?: number; at?: string; pendingChanges: number; error?: string } {
    return { ...this.#last, pendingChanges: this.#pending, ...(this.#error ? { error: this.#error } : {}) };
  }

  /**
   * Count changes that reached the store and the index; writes a snapshot when they reach
   * `everyChanges`.
   *
   * @param n items put plus ids deleted
   */
  changed(n: number): void {
    if (!this.enabled || n <= 0) return;
    this.#pending += n;
    this.#maybeWrite();
  }

  /** Start a write when enough changed and none is running (a running one re-checks when done). */
  #maybeWrite(): void {
    if (this.#closed || this.#writing || this.#pending < (this.#o.everyChanges ?? 10_000)) return;
    if (Date.now() < this.#retryAt) return; // a write failed recently (disk full?): not in a loop
    void this.write().catch(() => {});
  }

  /**
   * Write a snapshot now (one at a time: a call during a write waits for it, then writes if
   * something changed meanwhile).
   *
   * @returns resolves once the file is renamed into place
   */
  async write(): Promise<void> {
    if (!this.enabled) return;
    while (this.#writing) await this.#writing.catch(() => {});
    const job = this.#writeOnce();
    this.#writing = job;
    try {
      await job;
    } finally {
      this.#writing = undefined;
      this.#maybeWrite();
    }
  }

  async #writeOnce(): Promise<void> {
    const t0 = performance.now();
    const { index, store, backend } = this.#o;
    const serialize = this.#o.serialize ?? (<T>(f: () => T) => Promise.resolve().then(f));
    const taken = await serialize(() => {
      const seq = store.seq!;
      const pending = this.#pending;
      this.#pending = 0;
      return { seq, pending, ...index._save(backend) };
    });
    try {
      const bytes = await taken.bytes;
      const parts = encodeSnapshot(
        taken.seq,
        index.dim,
        store.uid!,
        { kind: index.kind, hnsw: index.hnsw },
        taken.state,
        bytes,
      );
      await writeFileAtomic(this.path, parts);
      this.#last = {
        seq: taken.seq,
        ms: Math.round(performance.now() - t0),
        bytes: parts.reduce((s, p) => s + p.length, 0),
        at: new Date().toISOString(),
      };
      this.#error = undefined;
      this.#retryAt = 0;
    } catch (e) {
      this.#pending += taken.pending;
      this.#retryAt = Date.now() + 60_000;
      this.#error = `${new Date().toISOString()}: ${(e as Error).message}`;
      (this.#o.log ?? ((l: string) => console.error(l)))(
        `likeness: writing the index snapshot ${this.path} failed: ${(e as Error).message}`,
      );
      throw e;
    }
  }

  /**
   * Stop the timer and, when something changed since the last snapshot (or `force`), write one.
   *
   * @param force write even when nothing changed (e.g. after a load that found no usable snapshot)
   */
  async close(force = false): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.enabled && (force || this.#pending > 0)) await this.write().catch(() => {});
    else if (this.#writing) await this.#writing.catch(() => {});
  }
}
