// A read of a SQLite write-ahead log that finds damage SQLite itself would hide. At recovery SQLite
// keeps the frames up to the first one whose checksum fails and silently drops the rest: right for a
// torn tail (a write that was never acknowledged), wrong when a byte flipped in the middle and later
// transactions were acknowledged. Each frame's checksum is seeded from the previous frame's stored
// checksum, so frames after a damaged one can still be verified one by one: a committed frame that
// verifies after a damaged one means acknowledged data would be lost. Not exported from mod.ts.
// Format: https://www.sqlite.org/fileformat2.html#walformat

/** What the log check found. */
export interface WalReport {
  /** Frames that SQLite will replay. */
  validFrames: number;
  /** Set when committed frames follow a damaged one. */
  damage?: { frame: number; committedAfter: number; frames: number };
}

function checksum(bytes: Uint8Array, at: number, len: number, bigEndian: boolean, s0: number, s1: number) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = at; i < at + len; i += 8) {
    s0 = (s0 + dv.getUint32(i, !bigEndian) + s1) >>> 0;
    s1 = (s1 + dv.getUint32(i + 4, !bigEndian) + s0) >>> 0;
  }
  return [s0, s1];
}

/**
 * Check a WAL file's frames.
 *
 * @param bytes the whole `-wal` file
 * @returns valid frame count and, when committed frames follow a damaged one, where
 */
export function checkWal(bytes: Uint8Array): WalReport {
  if (bytes.length < 32) return { validFrames: 0 };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = dv.getUint32(0);
  const pageSize = dv.getUint32(8);
  const headerOk = (magic === 0x377f0682 || magic === 0x377f0683) && pageSize >= 512 && pageSize <= 65536 &&
    (pageSize & (pageSize - 1)) === 0;
  if (!headerOk) {
    return bytes.length > 32 ? { validFrames: 0, damage: { frame: -1, committedAfter: 1, frames: 0 } } : {
      validFrames: 0,
    };
  }
  const big = (magic & 1) === 1;
  const salt1 = dv.getUint32(16), salt2 = dv.getUint32(20);
  const frameSize = 24 + pageSize;
  const frames = Math.floor((bytes.length - 32) / frameSize);
  const stored = (at: number): [number, number] => [dv.getUint32(at), dv.getUint32(at + 4)];
  const frameOk = (f: number, seed: [number, number]) => {
    const at = 32 + f * frameSize;
    if (dv.getUint32(at + 8) !== salt1 || dv.getUint32(at + 12) !== salt2) return false;
    let [s0, s1] = checksum(bytes, at, 8, big, seed[0], seed[1]);
    [s0, s1] = checksum(bytes, at + 24, pageSize, big, s0, s1);
    const [c0, c1] = stored(at + 16);
    return s0 === c0 && s1 === c1;
  };
  const [h0, h1] = checksum(bytes, 0, 24, big, 0, 0);
  const headerStored = stored(24);
  let first = -1; // first damaged frame (-1 header, or a frame index)
  let seed: [number, number] = headerStored;
  let valid = 0;
  if (h0 !== headerStored[0] || h1 !== headerStored[1]) first = -1;
  else {
    for (; valid < frames; valid++) {
      if (!frameOk(valid, seed)) break;
      seed = stored(32 + valid * frameSize + 16);
    }
    if (valid === frames) return { validFrames: valid };
    first = valid;
  }
  // Verify each later frame on its own, seeded from its predecessor's stored checksum.
  let committedAfter = 0;
  for (let f = first + 1; f < frames; f++) {
    const prev = f === 0 ? headerStored : stored(32 + (f - 1) * frameSize + 16);
    if (frameOk(f, prev) && dv.getUint32(32 + f * frameSize + 4) !== 0) committedAfter++;
  }
  return committedAfter ? { validFrames: valid, damage: { frame: first, committedAfter, frames } } : {
    validFrames: valid,
  };
}
