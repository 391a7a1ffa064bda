/**
 * Loader for verse-aligned paraphrase pairs: King James Version and World English Bible from
 * Debian's SWORD modules (`sword-text-kjv`, `sword-text-web`), exported with `mod2imp` from
 * `libsword-utils` (run through `node:child_process`, available in Deno and Bun).
 *
 * @module
 */
import { spawn } from "node:child_process";
import { LikenessError } from "@likeness/core";
import type { SimilarityPairSample } from "./samples.ts";

/** One verse in both translations. */
export interface VersePair {
  /** Reference, e.g. `Genesis 1:1`. */
  reference: string;
  /** Book name, e.g. `Genesis`. */
  book: string;
  /** King James text. */
  kjv: string;
  /** World English Bible text. */
  web: string;
}

/** Options for {@link loadVersePairs}. */
export interface VerseOptions {
  /** Only these books (default all 66). */
  books?: readonly string[];
  /** Stop after this many pairs. */
  limit?: number;
  /** The exporter command (default `mod2imp`). */
  mod2imp?: string;
  /** SWORD module names (defaults `engKJV2006eb`, `engWEB2015eb`). */
  modules?: { kjv?: string; web?: string };
}

/** What to install for {@link loadVersePairs}. */
export const VERSES_INSTALL = "apt-get install sword-text-kjv sword-text-web libsword-utils";

/** Decides, from the verse references read so far, that the rest of the export is not needed. */
type StopRule = (refs: readonly string[]) => boolean;

function missingError(message: string, cause?: unknown): LikenessError {
  return new LikenessError("MISSING_DEPENDENCY", `${message}; install it with: ${VERSES_INSTALL}`, {
    cause,
    details: { install: VERSES_INSTALL },
  });
}

/** Run mod2imp, streaming its output; stop early (and end the child) once `stop` says so. */
function run(cmd: string, module: string, stop: StopRule): Promise<string> {
  return new Promise((resolve, reject) => {
    let child;
    try {
      child = spawn(cmd, [module], { stdio: ["ignore", "pipe", "pipe"] });
    } catch (e) {
      reject(missingError(`Cannot load verse pairs: cannot start the SWORD exporter "${cmd}"`, e));
      return;
    }
    const chunks: string[] = [];
    const refs: string[] = [];
    let tail = "";
    let stopped = false;
    let settled = false;
    const finish = (text: string) => {
      if (settled) return;
      settled = true;
      if (!text.includes("$$$")) {
        reject(
          missingError(`Cannot load verse pairs: SWORD module ${module} is not installed (${cmd} printed no verses)`),
        );
      } else resolve(text);
    };
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      if (stopped) return;
      chunks.push(chunk);
      const text = tail + chunk;
      const re = /^\$\$\$(.+)$/gm;
      let m: RegExpExecArray | null;
      let last = 0;
      while ((m = re.exec(text)) !== null) {
        refs.push(m[1].trim());
        last = m.index + m[0].length;
      }
      tail = text.slice(last);
      if (stop(refs)) {
        stopped = true;
        child.kill();
        // Keep whole blocks only: cut before the last heading, whose block may be partial.
        const all = chunks.join("");
        finish(all.slice(0, all.lastIndexOf("\n$$$") + 1));
      }
    });
    child.on("error", (err: Error) => {
      if (settled) return;
      settled = true;
      const code = (err as Error & { code?: string }).code;
      reject(
        missingError(
          code === "ENOENT"
            ? `Cannot load verse pairs: the SWORD exporter "${cmd}" is not installed`
            : `Cannot export SWORD module ${module} with ${cmd}: ${err.message}`,
          err,
        ),
      );
    });
    child.on("close", () => {
      if (!stopped) finish(chunks.join(""));
    });
  });
}

function stopRule(options: VerseOptions): StopRule {
  const books = options.books ? new Set(options.books) : undefined;
  const limit = options.limit;
  return (refs) => {
    if (limit !== undefined && !books) {
      let verses = 0;
      for (const r of refs) if (/ \d+:[1-9]\d*$/.test(r)) verses++;
      if (verses > limit + 50 + limit / 10) return true;
    }
    if (books) {
      // Stop at the first book outside the set once every requested book has been passed.
      const seen = new Set<string>();
      for (const r of refs) {
        const m = /^(.+) \d+:\d+$/.exec(r);
        if (m) seen.add(m[1]);
      }
      const lastRef = /^(.+) \d+:\d+$/.exec(refs[refs.length - 1] ?? "");
      return [...books].every((b) => seen.has(b)) && !!lastRef && !books.has(lastRef[1]);
    }
    return false;
  };
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/**
 * Plain text of one OSIS verse: notes, titles and paragraph marks (¶) removed, text after the
 * end of a book or inside front/back matter dropped, other tags stripped, entities decoded,
 * whitespace collapsed.
 *
 * @param osis the verse's markup
 * @returns plain text
 * @example
 * ```ts
 * import { osisToText } from "@likeness/data";
 * console.log(osisToText('In the <w lemma="x">beginning</w><note>a note</note> God'));
 * // "In the beginning God"
 * ```
 */
export function osisToText(osis: string): string {
  // Text after a book ends, or in front/back matter (glossary, introductions), is not the verse.
  if (/type="(?:book|glossary|introduction|front|back)"/.test(osis)) {
    const end = osis.search(/<div\b[^>]*(?:eID="[^"]*"[^>]*type="book"|type="(?:glossary|introduction|front|back)")/);
    if (end >= 0) osis = osis.slice(0, end);
  }
  return osis
    .replace(MARKUP, " ")
    .replace(ENTITY, (_, e: string) => (e[0] === "#" ? String.fromCodePoint(Number(e.slice(1))) : ENTITIES[e]))
    .replace(/[\s¶]+/g, " ")
    .replace(/ ([,.;:!?’”)])/g, "$1")
    .trim();
}

/** Notes and titles with their contents, and any other tag. */
const MARKUP = /<(note|title)\b[^>]*\/>|<(note|title)\b[^>]*>[\s\S]*?<\/\2>|<[^>]*>/g;
const ENTITY = /&(amp|lt|gt|quot|apos|#\d+);/g;

/**
 * Parse `mod2imp` output into reference → plain text (chapter/book headings, 0-numbered
 * entries and empty verses skipped).
 *
 * @param text mod2imp output
 * @param options `books`: keep only these books (faster: other verses are not converted)
 * @returns verses by reference, in order
 * @example
 * ```ts
 * import { parseImp } from "@likeness/data";
 * console.log(parseImp("$$$Genesis 1:1\nIn the beginning.\n").get("Genesis 1:1")); // "In the beginning."
 * ```
 */
export function parseImp(text: string, options: { books?: ReadonlySet<string> } = {}): Map<string, string> {
  const out = new Map<string, string>();
  const blocks = text.split(/^\$\$\$/m);
  for (const block of blocks) {
    const nl = block.indexOf("\n");
    if (nl < 0) continue;
    const ref = block.slice(0, nl).trim();
    const m = /^(.+) (\d+):(\d+)$/.exec(ref);
    if (!m || m[2] === "0" || m[3] === "0") continue;
    if (options.books && !options.books.has(m[1])) continue;
    const body = osisToText(block.slice(nl + 1));
    if (body.length > 0) out.set(ref, body);
  }
  return out;
}

/**
 * King James / World English verse pairs joined on the reference (about 31,000).
 *
 * @param options books, limit, mod2imp, modules
 * @returns pairs in canonical order
 * @throws {LikenessError} MISSING_DEPENDENCY naming `apt-get install sword-text-kjv sword-text-web libsword-utils`
 * @example
 * ```ts
 * import { loadVersePairs } from "@likeness/data";
 * const pairs = await loadVersePairs({ books: ["John"], limit: 2 });
 * console.log(pairs[0].reference); // John 1:1
 * ```
 */
export async function loadVersePairs(options: VerseOptions = {}): Promise<VersePair[]> {
  const cmd = options.mod2imp ?? "mod2imp";
  const [kjvText, webText] = await Promise.all([
    run(cmd, options.modules?.kjv ?? "engKJV2006eb", stopRule(options)),
    run(cmd, options.modules?.web ?? "engWEB2015eb", stopRule(options)),
  ]);
  const books = options.books ? new Set(options.books) : undefined;
  const kjv = parseImp(kjvText, { books });
  const web = parseImp(webText, { books });
  const out: VersePair[] = [];
  for (const [reference, a] of kjv) {
    const b = web.get(reference);
    if (b === undefined) continue;
    const book = reference.slice(0, reference.lastIndexOf(" "));
    if (books && !books.has(book)) continue;
    out.push({ reference, book, kjv: a, web: b });
    if (options.limit !== undefined && out.length >= options.limit) break;
  }
  return out;
}

/**
 * Verse pairs as pair samples (score 1; each pair its own subgroup, so every other pair of a
 * batch can be a negative).
 *
 * @param pairs output of {@link loadVersePairs}
 * @returns one pair sample per verse: objA King James, objB World English
 * @example
 * ```ts
 * import { versePairSamples } from "@likeness/data";
 * const s = versePairSamples([{ reference: "John 1:1", book: "John", kjv: "In the beginning", web: "In the beginning" }]);
 * console.log(s[0].subgroup); // 1
 * ```
 */
export function versePairSamples(pairs: readonly VersePair[]): SimilarityPairSample<string>[] {
  return pairs.map((p, i) => ({ objA: p.kjv, objB: p.web, score: 1, subgroup: i + 1 }));
}
