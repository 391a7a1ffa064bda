/**
 * CRC-32 (IEEE 802.3 polynomial), used to detect torn or corrupt log records.
 *
 * @module
 */
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * CRC-32 of a byte array.
 *
 * @param bytes input
 * @returns unsigned 32-bit checksum
 * @example
 * ```ts
 * import { crc32 } from "@likeness/server";
 * console.log(crc32(new TextEncoder().encode("123456789")).toString(16)); // cbf43926
 * ```
 */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
