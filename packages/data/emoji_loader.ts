/**
 * Loader of the emoji images of npm `emoji-datasource-google`, `-twitter` and `-facebook`
 * (64-px PNGs of the same emoji drawn by each vendor, with `emoji.json` metadata): a real
 * few-shot similarity set whose classes are emoji (unified code points). Reads files through
 * `node:fs`; decodes with `fast-png`.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { checkPositiveInt, createRng, ValueError } from "@likeness/core";
import { decodePngImage, type RgbImage } from "./images.ts";
import { missing, packageDir } from "./_files.ts";

/** The vendors with an npm `emoji-datasource-<vendor>` package that this loader reads. */
export const EMOJI_VENDORS: readonly string[] = ["google", "twitter", "facebook"];

/** One emoji image. */
export interface EmojiImage {
  /** Unified code point(s), e.g. `1F600` or `0023-FE0F-20E3` (the class label). */
  unified: string;
  /** Upper-case name, e.g. `GRINNING FACE`. */
  name: string;
  /** Category, e.g. `Smileys & Emotion`. */
  category: string;
  /** Vendor whose drawing this is. */
  vendor: string;
  /** The decoded 64×64 image (transparency composited onto white). */
  image: RgbImage;
}

/** Options of {@link loadEmojiImages}. */
export interface EmojiLoadOptions {
  /** Vendors to read (default all of {@link EMOJI_VENDORS}). */
  vendors?: readonly string[];
  /** Keep only emoji that every listed vendor draws (default true). */
  requireAll?: boolean;
  /** Keep at most this many emoji, a seeded choice (default: all). */
  limit?: number;
  /** Seed of the `limit` choice (default 0). */
  seed?: number;
  /** Only these categories (default: all). */
  categories?: readonly string[];
}

interface EmojiMeta {
  unified: string;
  name: string | null;
  short_name: string;
  category: string;
  image: string;
  [key: string]: unknown;
}

/**
 * Load emoji images (base emoji only, no skin-tone variants), grouped by emoji in metadata order.
 * @param options vendors, requireAll, limit, seed, categories
 * @returns one item per (emoji, vendor) image
 * @throws {ValueError} UNKNOWN_NAME for an unknown vendor; {LikenessError} MISSING_DEPENDENCY naming the
 *   package to install; CORRUPT for an unreadable image
 * @example
 * ```ts
 * import { loadEmojiImages } from "@likeness/data";
 * const items = await loadEmojiImages({ limit: 2 });
 * console.log(items.length, items[0].image.width); // 6 64
 * ```
 */
export async function loadEmojiImages(options: EmojiLoadOptions = {}): Promise<EmojiImage[]> {
  const vendors = [...(options.vendors ?? EMOJI_VENDORS)];
  if (vendors.length === 0) throw new ValueError("INVALID_ARGUMENT", "Cannot load emoji: no vendors listed");
  for (const v of vendors) {
    if (!EMOJI_VENDORS.includes(v)) {
      throw new ValueError(
        "UNKNOWN_NAME",
        `Unknown emoji vendor ${JSON.stringify(v)}: use one of ${EMOJI_VENDORS.join(", ")}`,
      );
    }
  }
  const dirs = vendors.map((v) => {
    const pkg = `emoji-datasource-${v}`;
    const d = packageDir(pkg);
    if (!d) throw missing(`emoji images of ${v}`, `npm install ${pkg}@16.0.0`, []);
    return d;
  });
  const meta = JSON.parse(await readFile(join(dirs[0], "emoji.json"), "utf8")) as EmojiMeta[];
  const requireAll = options.requireAll ?? true;
  let chosen = meta.filter((e) => {
    if (options.categories && !options.categories.includes(e.category)) return false;
    const has = vendors.map((v) => e[`has_img_${v}`] === true);
    return requireAll ? has.every(Boolean) : has.some(Boolean);
  });
  if (options.limit !== undefined) {
    checkPositiveInt(options.limit, "limit");
    const idx = createRng(options.seed ?? 0).shuffle(chosen.map((_, i) => i)).slice(0, options.limit).sort((a, b) =>
      a - b
    );
    chosen = idx.map((i) => chosen[i]);
  }
  const out: EmojiImage[] = [];
  for (const e of chosen) {
    for (let k = 0; k < vendors.length; k++) {
      if (e[`has_img_${vendors[k]}`] !== true) continue;
      const bytes = new Uint8Array(await readFile(join(dirs[k], "img", vendors[k], "64", e.image)));
      out.push({
        unified: e.unified,
        name: e.name ?? e.short_name.toUpperCase(),
        category: e.category,
        vendor: vendors[k],
        image: decodePngImage(bytes),
      });
    }
  }
  return out;
}
