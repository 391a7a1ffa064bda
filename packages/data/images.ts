/**
 * Images for pre-trained vision encoders: PNG decoding (npm `fast-png`), alpha compositing,
 * bilinear resizing, grey → RGB, normalisation to encoder input and seeded augmentations
 * (random resized crop, horizontal flip, colour jitter). Plain TypeScript over typed arrays, so
 * the same seed gives the same pixels in Deno and Bun.
 *
 * @module
 */
import { checkPositiveInt, LikenessError, type Rng, ShapeError, ValueError } from "@likeness/core";
import { convertIndexedToRgb, decode, hasPngSignature } from "fast-png";

/** An 8-bit RGB image, row-major, channels last (`data.length = width * height * 3`). */
export interface RgbImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** `width * height * 3` bytes. */
  data: Uint8Array;
}

/** Options of {@link decodePngImage}. */
export interface DecodePngOptions {
  /** Colour that transparent pixels are composited onto (default white `[255, 255, 255]`). */
  background?: [number, number, number];
  /** Require this width and height (default: any). */
  expectSize?: number;
}

/**
 * Decode PNG bytes to an RGB image (grey, palette, 16-bit and alpha images included; alpha is
 * composited onto `background`).
 * @param bytes the PNG file's bytes
 * @param options background colour, expected size
 * @returns the image
 * @throws {LikenessError} CORRUPT when the bytes are not a PNG or cannot be decoded;
 *   {ShapeError} SHAPE_MISMATCH when `expectSize` is given and the image has another size
 * @example
 * ```ts
 * import { decodePngImage } from "@likeness/data";
 * import { encode } from "fast-png";
 * const png = encode({ width: 1, height: 1, data: new Uint8Array([255, 0, 0, 128]), channels: 4 });
 * console.log(decodePngImage(png).data); // Uint8Array [255, 127, 127]
 * ```
 */
export function decodePngImage(bytes: Uint8Array, options: DecodePngOptions = {}): RgbImage {
  if (!(bytes instanceof Uint8Array) || !hasPngSignature(bytes)) {
    throw new LikenessError(
      "CORRUPT",
      `Cannot decode image: the ${
        bytes instanceof Uint8Array ? `${bytes.length} bytes` : typeof bytes
      } are not a PNG (no PNG signature)`,
    );
  }
  let png: ReturnType<typeof decode>;
  try {
    png = decode(bytes);
  } catch (cause) {
    throw new LikenessError("CORRUPT", `Cannot decode PNG: ${(cause as Error).message}`, { cause });
  }
  const { width, height } = png;
  if (options.expectSize !== undefined && (width !== options.expectSize || height !== options.expectSize)) {
    throw new ShapeError(
      `Cannot use image: it is ${width}×${height} but ${options.expectSize}×${options.expectSize} is expected`,
    );
  }
  let data: ArrayLike<number> = png.data;
  let channels = png.channels;
  let max = png.depth === 16 ? 65535 : (1 << png.depth) - 1;
  if (png.palette) {
    data = convertIndexedToRgb(png);
    channels = png.palette[0]?.length === 4 || png.transparency ? 4 : 3;
    max = 255;
  }
  const bg = options.background ?? [255, 255, 255];
  const out = new Uint8Array(width * height * 3);
  const n = width * height;
  for (let p = 0; p < n; p++) {
    const i = p * channels;
    let r: number, g: number, b: number, a = 1;
    if (channels <= 2) {
      r = g = b = data[i] / max;
      if (channels === 2) a = data[i + 1] / max;
    } else {
      r = data[i] / max;
      g = data[i + 1] / max;
      b = data[i + 2] / max;
      if (channels === 4) a = data[i + 3] / max;
    }
    out[p * 3] = Math.round((r * a) * 255 + bg[0] * (1 - a));
    out[p * 3 + 1] = Math.round((g * a) * 255 + bg[1] * (1 - a));
    out[p * 3 + 2] = Math.round((b * a) * 255 + bg[2] * (1 - a));
  }
  return { width, height, data: out };
}

/**
 * A grey image (one byte per pixel) as RGB (the grey value in all three channels).
 * @param grey `width * height` bytes (e.g. an MNIST image)
 * @param width width
 * @param height height (default `width`)
 * @returns the RGB image
 * @throws {ShapeError} when the byte count is not `width * height`
 * @example
 * ```ts
 * import { greyToRgb } from "@likeness/data";
 * console.log(greyToRgb(new Uint8Array([0, 255]), 2, 1).data); // Uint8Array [0, 0, 0, 255, 255, 255]
 * ```
 */
export function greyToRgb(grey: ArrayLike<number>, width: number, height = width): RgbImage {
  checkPositiveInt(width, "width");
  checkPositiveInt(height, "height");
  if (grey.length !== width * height) {
    throw new ShapeError(`Cannot convert grey image: ${grey.length} values but ${width}×${height} = ${width * height}`);
  }
  const out = new Uint8Array(width * height * 3);
  for (let p = 0; p < grey.length; p++) out[p * 3] = out[p * 3 + 1] = out[p * 3 + 2] = grey[p];
  return { width, height, data: out };
}

/** A rectangle of the source image in pixels (fractions allowed). */
export interface CropBox {
  /** Left edge. */
  x: number;
  /** Top edge. */
  y: number;
  /** Width. */
  width: number;
  /** Height. */
  height: number;
}

/** How pixel values are scaled for an encoder: `unit` → [0, 1] (nsfwjs's MobileNetV2), `symmetric` → [-1, 1]. */
export type PixelScaling = "unit" | "symmetric";

function checkImage(img: RgbImage, what: string): void {
  if (
    !img || !(img.data instanceof Uint8Array) || !Number.isInteger(img.width) || !Number.isInteger(img.height) ||
    img.width < 1 || img.height < 1
  ) {
    throw new ValueError(
      "INVALID_ARGUMENT",
      `Cannot ${what}: expected an RgbImage { width, height, data: Uint8Array }`,
    );
  }
  if (img.data.length !== img.width * img.height * 3) {
    throw new ShapeError(
      `Cannot ${what}: a ${img.width}×${img.height} RGB image needs ${
        img.width * img.height * 3
      } bytes, got ${img.data.length}`,
    );
  }
}

/**
 * Bilinear resize (half-pixel centres) of a crop of an image to `size × size`, scaled to floats.
 * @param img source image
 * @param size output width and height
 * @param options `crop` (default the whole image), `flip` horizontally, `scaling` (default `unit`),
 *   `out` to write into (length `size*size*3`) at `offset`
 * @returns `size*size*3` floats, channels last
 * @throws {ShapeError} / {ValueError} for a malformed image, size or crop
 * @example
 * ```ts
 * import { resizeImage } from "@likeness/data";
 * const img = { width: 2, height: 2, data: new Uint8Array(12).fill(255) };
 * console.log(resizeImage(img, 4).length); // 48
 * ```
 */
export function resizeImage(
  img: RgbImage,
  size: number,
  options: { crop?: CropBox; flip?: boolean; scaling?: PixelScaling; out?: Float32Array; offset?: number } = {},
): Float32Array {
  checkImage(img, "resize image");
  checkPositiveInt(size, "size");
  const crop = options.crop ?? { x: 0, y: 0, width: img.width, height: img.height };
  if (!(crop.width > 0 && crop.height > 0) || ![crop.x, crop.y, crop.width, crop.height].every(Number.isFinite)) {
    throw new ValueError("INVALID_ARGUMENT", `Invalid crop ${JSON.stringify(crop)}: width and height must be > 0`);
  }
  const out = options.out ?? new Float32Array(size * size * 3);
  const off = options.offset ?? 0;
  if (out.length < off + size * size * 3) {
    throw new ShapeError(`Cannot resize image: the output holds ${out.length - off} values, ${size * size * 3} needed`);
  }
  const symmetric = options.scaling === "symmetric";
  const { width: w, height: h, data } = img;
  const sx = crop.width / size;
  const sy = crop.height / size;
  for (let oy = 0; oy < size; oy++) {
    const fy = Math.min(Math.max(crop.y + (oy + 0.5) * sy - 0.5, 0), h - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, h - 1);
    const dy = fy - y0;
    for (let ox = 0; ox < size; ox++) {
      const tx = options.flip ? size - 1 - ox : ox;
      const fx = Math.min(Math.max(crop.x + (tx + 0.5) * sx - 0.5, 0), w - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, w - 1);
      const dx = fx - x0;
      const o = off + (oy * size + ox) * 3;
      for (let c = 0; c < 3; c++) {
        const a = data[(y0 * w + x0) * 3 + c] * (1 - dx) + data[(y0 * w + x1) * 3 + c] * dx;
        const b = data[(y1 * w + x0) * 3 + c] * (1 - dx) + data[(y1 * w + x1) * 3 + c] * dx;
        const v = (a * (1 - dy) + b * dy) / 255;
        out[o + c] = symmetric ? v * 2 - 1 : v;
      }
    }
  }
  return out;
}

/** Options of {@link augmentImage} (SimCLR's recipe, milder defaults for small icons). */
export interface AugmentOptions {
  /** Output size in pixels. */
  size: number;
  /** Range of the crop's area as a fraction of the image (default `[0.5, 1]`). */
  scale?: [number, number];
  /** Range of the crop's aspect ratio (default `[3/4, 4/3]`). */
  ratio?: [number, number];
  /** Probability of a horizontal flip (default 0.5). */
  flipProbability?: number;
  /** Brightness jitter: a factor in `[1 - b, 1 + b]` (default 0.4). */
  brightness?: number;
  /** Contrast jitter (default 0.4). */
  contrast?: number;
  /** Saturation jitter (default 0.4). */
  saturation?: number;
  /** Probability of converting to grey (default 0.2). */
  greyProbability?: number;
  /** Pixel scaling (default `unit`). */
  scaling?: PixelScaling;
}

/**
 * One seeded random view of an image: random resized crop, horizontal flip, colour jitter
 * (brightness, contrast, saturation in random order of application fixed as listed), random grey.
 * @param img source image
 * @param rng seeded generator (same seed, same view in Deno and Bun)
 * @param options output size and augmentation strengths
 * @returns `size*size*3` floats in [0, 1] (or [-1, 1] with `symmetric` scaling)
 * @throws {ShapeError} / {ValueError} for a malformed image or options
 * @example
 * ```ts
 * import { augmentImage } from "@likeness/data";
 * import { createRng } from "@likeness/core";
 * const img = { width: 8, height: 8, data: new Uint8Array(192).fill(128) };
 * console.log(augmentImage(img, createRng(1), { size: 4 }).length); // 48
 * ```
 */
export function augmentImage(img: RgbImage, rng: Rng, options: AugmentOptions): Float32Array {
  checkImage(img, "augment image");
  const size = checkPositiveInt(options.size, "size");
  const [smin, smax] = options.scale ?? [0.5, 1];
  const [rmin, rmax] = options.ratio ?? [3 / 4, 4 / 3];
  if (!(smin > 0 && smin <= smax && smax <= 1) || !(rmin > 0 && rmin <= rmax)) {
    throw new ValueError("INVALID_ARGUMENT", "Invalid augmentation: scale must lie in (0, 1] and ratio be positive");
  }
  const area = img.width * img.height;
  let crop: CropBox = { x: 0, y: 0, width: img.width, height: img.height };
  for (let attempt = 0; attempt < 10; attempt++) {
    const a = area * (smin + (smax - smin) * rng.next());
    const logr = Math.log(rmin) + (Math.log(rmax) - Math.log(rmin)) * rng.next();
    const r = Math.exp(logr);
    const cw = Math.sqrt(a * r);
    const ch = Math.sqrt(a / r);
    if (cw <= img.width && ch <= img.height) {
      crop = { x: rng.next() * (img.width - cw), y: rng.next() * (img.height - ch), width: cw, height: ch };
      break;
    }
  }
  const flip = rng.next() < (options.flipProbability ?? 0.5);
  const out = resizeImage(img, size, { crop, flip, scaling: "unit" });
  const jitter = (s: number) => 1 + s * (2 * rng.next() - 1);
  const bright = jitter(options.brightness ?? 0.4);
  const contrast = jitter(options.contrast ?? 0.4);
  const sat = jitter(options.saturation ?? 0.4);
  const grey = rng.next() < (options.greyProbability ?? 0.2);
  const n = size * size;
  let mean = 0;
  for (let p = 0; p < n; p++) {
    const o = p * 3;
    for (let c = 0; c < 3; c++) out[o + c] = Math.min(1, out[o + c] * bright);
    mean += 0.299 * out[o] + 0.587 * out[o + 1] + 0.114 * out[o + 2];
  }
  mean /= n;
  const symmetric = options.scaling === "symmetric";
  for (let p = 0; p < n; p++) {
    const o = p * 3;
    for (let c = 0; c < 3; c++) out[o + c] = (out[o + c] - mean) * contrast + mean;
    const l = 0.299 * out[o] + 0.587 * out[o + 1] + 0.114 * out[o + 2];
    for (let c = 0; c < 3; c++) {
      let v = grey ? l : (out[o + c] - l) * sat + l;
      v = Math.min(1, Math.max(0, v));
      out[o + c] = symmetric ? v * 2 - 1 : v;
    }
  }
  return out;
}

/**
 * Stack images into one batch of encoder input (resized to `size`, scaled), e.g. for
 * `tf.tensor4d(batch, [n, size, size, 3])`.
 * @param images the images
 * @param size output size
 * @param scaling pixel scaling (default `unit`)
 * @returns `n*size*size*3` floats
 * @throws {ShapeError} EMPTY_INPUT for no images
 * @example
 * ```ts
 * import { imagesToBatch } from "@likeness/data";
 * const img = { width: 2, height: 2, data: new Uint8Array(12) };
 * console.log(imagesToBatch([img, img], 3).length); // 54
 * ```
 */
export function imagesToBatch(images: readonly RgbImage[], size: number, scaling: PixelScaling = "unit"): Float32Array {
  if (!Array.isArray(images) || images.length === 0) {
    throw new ShapeError("Cannot batch images: no images", "EMPTY_INPUT");
  }
  const per = size * size * 3;
  const out = new Float32Array(images.length * per);
  images.forEach((img, i) => resizeImage(img, size, { scaling, out, offset: i * per }));
  return out;
}
