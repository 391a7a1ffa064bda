/**
 * A tiny PNG encoder for thumbnails: 8-bit greyscale or RGB, zlib stream made of stored
 * (uncompressed) deflate blocks, so it needs only CRC-32 and Adler-32 and no compression
 * library. Good for small images (28×28 digits); the output is deterministic.
 *
 * @module
 */
import { concatBytes, ShapeError, ValueError } from "@likeness/core";

/** A small image: `height × width × channels` values, row-major, channels last. */
export interface ImagePixels {
  /** Pixel values, length `height * width * channels`. Range: see {@link ImagePixels.range}. */
  pixels: ArrayLike<number>;
  /** Height in pixels. */
  height: number;
  /** Width in pixels. */
  width: number;
  /** 1 (greyscale, default) or 3 (RGB). */
  channels?: 1 | 3;
  /**
   * Value range mapped to black..white: `[min, max]`. Default: `[0, 1]` when every value is
   * within [0, 1], else `[0, 255]`. Values outside are clamped.
   */
  range?: [number, number];
  /** Draw light-on-dark data (MNIST) as dark-on-light (default false). */
  invert?: boolean;
}

let crcTable: Uint32Array | undefined;

function _crc32(bytes: Uint8Array, start: number, end: number): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function _adler32(bytes: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < bytes.length; i++) {
    a = (a + bytes[i]) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** zlib stream of stored deflate blocks (≤ 65535 bytes each). */
function _zlibStored(raw: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(raw.length / 65535));
  const out = new Uint8Array(2 + raw.length + blocks * 5 + 4);
  out[0] = 0x78; // CMF: deflate, 32 KiB window
  out[1] = 0x01; // FLG: no dictionary, fastest; (0x78 * 256 + 0x01) % 31 === 0
  let o = 2;
  for (let b = 0; b < blocks; b++) {
    const start = b * 65535;
    const len = Math.min(65535, raw.length - start);
    out[o++] = b === blocks - 1 ? 1 : 0; // BFINAL, BTYPE = 00 (stored)
    out[o++] = len & 0xff;
    out[o++] = len >>> 8;
    out[o++] = ~len & 0xff;
    out[o++] = (~len >>> 8) & 0xff;
    out.set(raw.subarray(start, start + len), o);
    o += len;
  }
  const ad = _adler32(raw);
  out[o++] = ad >>> 24;
  out[o++] = (ad >>> 16) & 0xff;
  out[o++] = (ad >>> 8) & 0xff;
  out[o++] = ad & 0xff;
  return out;
}

function _chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, _crc32(out, 4, 8 + data.length));
  return out;
}

/**
 * Check an image and convert its values to bytes (0 = black, 255 = white).
 *
 * @param image the image
 * @returns the bytes, row-major, channels last
 * @throws {ShapeError} SHAPE_MISMATCH when the pixel count does not match the shape
 * @throws {ValueError} INVALID_ARGUMENT for a bad size, channel count or range; NON_FINITE for NaN pixels
 */
function _imageBytes(image: ImagePixels): Uint8Array {
  const { height, width } = image;
  const channels = image.channels ?? 1;
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new ValueError(
      "INVALID_ARGUMENT",
      `Invalid image size ${height}×${width}: height and width must be positive integers`,
    );
  }
  if (channels !== 1 && channels !== 3) {
    throw new ValueError("INVALID_ARGUMENT", `Invalid image channels ${channels}: use 1 (greyscale) or 3 (RGB)`);
  }
  const n = height * width * channels;
  if (!image.pixels || image.pixels.length !== n) {
    throw new ShapeError(
      `Cannot draw image: it has ${image.pixels?.length ?? 0} values but ${height}×${width}×${channels} needs ${n}`,
    );
  }
  let range = image.range;
  if (!range) {
    let max = 0;
    for (let i = 0; i < n; i++) max = Math.max(max, image.pixels[i]);
    range = max <= 1 ? [0, 1] : [0, 255];
  }
  const [lo, hi] = range;
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && hi > lo)) {
    throw new ValueError("INVALID_ARGUMENT", `Invalid image range [${lo}, ${hi}]: pass [min, max] with max > min`);
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = image.pixels[i];
    if (!Number.isFinite(v)) {
      throw new ValueError("NON_FINITE", `Cannot draw image: pixel ${i} is ${v}; every pixel must be finite`);
    }
    let b = Math.round(((v - lo) / (hi - lo)) * 255);
    b = b < 0 ? 0 : b > 255 ? 255 : b;
    out[i] = image.invert ? 255 - b : b;
  }
  return out;
}

/**
 * Encode an image as PNG bytes (8-bit greyscale or RGB, no compression).
 *
 * @param image pixels, shape and value range
 * @returns the PNG file's bytes
 * @throws {ShapeError} SHAPE_MISMATCH when the pixel count does not match the shape
 * @throws {ValueError} INVALID_ARGUMENT / NON_FINITE for bad sizes, ranges or pixels
 * @example
 * ```ts
 * import { encodePng } from "@likeness/report";
 * const png = encodePng({ pixels: [0, 1, 1, 0], height: 2, width: 2 });
 * console.log(png[1], png[2], png[3]); // 80 78 71 ("PNG")
 * ```
 */
export function encodePng(image: ImagePixels): Uint8Array {
  const bytes = _imageBytes(image);
  const { height, width } = image;
  const channels = image.channels ?? 1;
  const stride = width * channels;
  const raw = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0; // filter type: none
    raw.set(bytes.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  }
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = channels === 1 ? 0 : 2; // colour type: greyscale or truecolour
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    _chunk("IHDR", ihdr),
    _chunk("IDAT", _zlibStored(raw)),
    _chunk("IEND", new Uint8Array(0)),
  ];
  return concatBytes(parts);
}

/**
 * Encode an image as a `data:image/png;base64,...` URL for an `<img>` tag.
 *
 * @param image pixels, shape and value range
 * @returns the data URL
 * @throws {ShapeError} SHAPE_MISMATCH when the pixel count does not match the shape
 * @throws {ValueError} INVALID_ARGUMENT / NON_FINITE for bad sizes, ranges or pixels
 * @example
 * ```ts
 * import { pngDataUrl } from "@likeness/report";
 * console.log(pngDataUrl({ pixels: [0, 255], height: 1, width: 2 }).slice(0, 22)); // data:image/png;base64,
 * ```
 */
export function pngDataUrl(image: ImagePixels): string {
  const png = encodePng(image);
  let s = "";
  for (let i = 0; i < png.length; i += 0x8000) {
    s += String.fromCharCode(...png.subarray(i, i + 0x8000));
  }
  return `data:image/png;base64,${btoa(s)}`;
}
