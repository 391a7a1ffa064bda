import { test } from "node:test";
import assert from "node:assert/strict";
import { crc32, createIndex, decodeIndex, encodeIndex, loadIndex } from "@likeness/backend";

/** CRC-32 bit by bit (the definition), the oracle of the table-driven slice-by-8 version. */
function crc32Reference(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

test("crc32 (slice-by-8) equals the bitwise definition at every tail length and on a large input", () => {
  for (const n of [0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 63, 64, 65, 100_003]) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 131 + 7) ^ (i >>> 3));
    assert.equal(crc32(bytes), crc32Reference(bytes), `length ${n}`);
    // A view at an odd offset reads the same bytes.
    const shifted = new Uint8Array(n + 3);
    shifted.set(bytes, 3);
    assert.equal(crc32(shifted.subarray(3)), crc32Reference(bytes), `length ${n} at offset 3`);
  }
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
});

test("index format: saved ids are checked for repeats whether or not they ascend", async () => {
  const a = await createIndex({ dim: 2, metric: "dot" });
  await a.add({ data: new Float32Array([1, 0, 0, 1, 1, 1]), rows: 3, cols: 2 }, { ids: [0, 1, 2] });
  const saved = decodeIndex(await a.save());
  a.dispose();
  const withIds = (ids: number[]) => {
    const sections: [string, Uint8Array][] = [...saved.sections].map(([tag, p]) => [
      tag,
      tag === "IDS " ? new Uint8Array(Int32Array.from(ids).buffer) : p,
    ]);
    return encodeIndex(saved.header, sections);
  };
  await assert.rejects(() => loadIndex(withIds([0, 2, 2])), (e: { code?: string; message: string }) => {
    return e.code === "CORRUPT" && /repeated id 2/.test(e.message);
  });
  await assert.rejects(() => loadIndex(withIds([2, 0, 2])), (e: { code?: string }) => e.code === "CORRUPT");
  const b = await loadIndex(withIds([2, 0, 1])); // not ascending, no repeat: loads
  assert.deepEqual([b.has(0), b.has(1), b.has(2), b.size], [true, true, true, 3]);
  b.dispose();
});

test("crc32: continuing from the CRC of the bytes before gives the CRC of the whole, at every split", () => {
  const bytes = Uint8Array.from({ length: 131 }, (_, i) => (i * 73 + 11) & 0xff);
  const whole = crc32Reference(bytes);
  for (const at of [0, 1, 3, 4, 5, 7, 8, 9, 16, 17, 64, 130, 131]) {
    assert.equal(crc32(bytes.subarray(at), crc32(bytes.subarray(0, at))), whole, `split at ${at}`);
  }
  assert.equal(crc32(new Uint8Array(0), whole), whole);
});
