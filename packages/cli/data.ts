/**
 * Loading the data set a config names into train and test splits: feature rows (images,
 * tables), labelled texts, or text pairs. Labels become class ids 0..C-1.
 *
 * @module
 */
import { createRng, type Label, LikenessError, type Matrix } from "@likeness/core";
import {
  imagesToFeatures,
  type LabeledFeatures,
  loadDigits,
  loadFashionMnist,
  loadMnist,
  loadVersePairs,
  loadWordNet,
  readCsvFeatures,
  readJsonlGroups,
  readJsonlPairs,
  selectRows,
  WORDNET_LEXNAMES,
  wordnetGlossGroups,
} from "@likeness/data";
import type { TrainConfig } from "./config.ts";

/** One split of labelled items. */
export interface LabeledSplit {
  /** Feature rows (kind `features`) or texts (kind `texts`). */
  inputs: Matrix | string[];
  /** Class id per item (0..C-1). */
  labels: number[];
}

/** One split of text pairs (row i of `a` matches row i of `b`). */
export interface PairSplit {
  /** First items. */
  a: string[];
  /** Second items. */
  b: string[];
  /** One score per pair (1 similar). */
  scores: number[];
}

/** A loaded data set. */
export interface LoadedData {
  /** What it holds. */
  kind: "features" | "texts" | "pairs";
  /** A line for the report and metrics.json. */
  description: string;
  /** Labelled train split (kinds `features`, `texts`). */
  train?: LabeledSplit;
  /** Labelled test split. */
  test?: LabeledSplit;
  /** Pair train split (kind `pairs`). */
  trainPairs?: PairSplit;
  /** Pair test split. */
  testPairs?: PairSplit;
  /** Class names by id. */
  classNames?: string[];
  /** Feature width (kind `features`). */
  dim?: number;
  /** Image height and width when the features are grey images (for the convnet and thumbnails). */
  imageShape?: [number, number];
}

function seededOrder(n: number, seed: number): number[] {
  return createRng(seed).shuffle(Array.from({ length: n }, (_, i) => i));
}

function classIndex(labels: readonly Label[], names?: string[]): { ids: number[]; classNames: string[] } {
  const distinct = [...new Set(labels.map((l) => String(l)))];
  const numeric = labels.every((l) => typeof l === "number");
  if (numeric) distinct.sort((x, y) => Number(x) - Number(y));
  else distinct.sort();
  const map = new Map(distinct.map((l, i) => [l, i]));
  const classNames = distinct.map((l) => (numeric && names && names[Number(l)] !== undefined ? names[Number(l)] : l));
  return { ids: labels.map((l) => map.get(String(l))!), classNames };
}

function splitFeatures(set: LabeledFeatures, data: TrainConfig["data"], seed: number, what: string): LoadedData {
  const limit = data.limit as number | undefined;
  const order = seededOrder(set.features.rows, (data.seed as number | undefined) ?? seed)
    .slice(0, limit ?? set.features.rows);
  const nTrain = Math.max(1, Math.round(order.length * ((data.trainFraction as number | undefined) ?? 0.8)));
  if (order.length - nTrain < 2) {
    throw new LikenessError(
      "INVALID_ARGUMENT",
      `Cannot split ${what}: ${order.length} rows leave fewer than 2 for testing; raise limit or lower trainFraction`,
    );
  }
  const train = selectRows(set, order.slice(0, nTrain));
  const test = selectRows(set, order.slice(nTrain));
  const { ids, classNames } = classIndex([...train.labels, ...test.labels], set.classNames);
  return {
    kind: "features",
    description: `${what} (${train.features.rows} train / ${test.features.rows} test, ${classNames.length} classes)`,
    train: { inputs: train.features, labels: ids.slice(0, nTrain) },
    test: { inputs: test.features, labels: ids.slice(nTrain) },
    classNames,
    dim: set.features.cols,
  };
}

function scaleMatrix(m: Matrix, factor: number): Matrix {
  const data = new Float32Array(m.data.length);
  for (let i = 0; i < data.length; i++) data[i] = m.data[i] * factor;
  return { data, rows: m.rows, cols: m.cols };
}

function splitTexts(
  texts: string[],
  labels: Label[],
  data: TrainConfig["data"],
  seed: number,
  what: string,
  names?: string[],
): LoadedData {
  const limit = data.limit as number | undefined;
  const order = seededOrder(texts.length, (data.seed as number | undefined) ?? seed).slice(0, limit ?? texts.length);
  const nTrain = Math.max(1, Math.round(order.length * ((data.trainFraction as number | undefined) ?? 0.8)));
  const { ids, classNames } = classIndex(order.map((i) => labels[i]), names);
  return {
    kind: "texts",
    description: `${what} (${nTrain} train / ${order.length - nTrain} test, ${classNames.length} classes)`,
    train: { inputs: order.slice(0, nTrain).map((i) => texts[i]), labels: ids.slice(0, nTrain) },
    test: { inputs: order.slice(nTrain).map((i) => texts[i]), labels: ids.slice(nTrain) },
    classNames,
  };
}

function splitPairs(a: string[], b: string[], scores: number[], data: TrainConfig["data"], seed: number, what: string) {
  const limit = data.limit as number | undefined;
  const order = seededOrder(a.length, (data.seed as number | undefined) ?? seed).slice(0, limit ?? a.length);
  const nTrain = Math.max(1, Math.round(order.length * ((data.trainFraction as number | undefined) ?? 0.8)));
  const pick = (idx: number[]): PairSplit => ({
    a: idx.map((i) => a[i]),
    b: idx.map((i) => b[i]),
    scores: idx.map((i) => scores[i]),
  });
  return {
    kind: "pairs" as const,
    description: `${what} (${nTrain} train / ${order.length - nTrain} test pairs)`,
    trainPairs: pick(order.slice(0, nTrain)),
    testPairs: pick(order.slice(nTrain)),
  };
}

/**
 * Load the data set of a config and split it.
 *
 * @param data the config's `data` section
 * @param seed seed for splits without their own
 * @returns the splits
 * @throws {LikenessError} MISSING_DEPENDENCY naming what to install; NOT_FOUND for a missing file
 * @example
 * ```ts
 * import { loadConfigData } from "@likeness/cli";
 * const d = await loadConfigData({ name: "digits", limit: 200 }, 1);
 * console.log(d.kind, d.dim); // features 64
 * ```
 */
export async function loadConfigData(data: TrainConfig["data"], seed: number): Promise<LoadedData> {
  switch (data.name) {
    case "digits": {
      const set = await loadDigits(typeof data.path === "string" ? { path: data.path } : {});
      const out = splitFeatures(
        { ...set, features: scaleMatrix(set.features, 1 / 16) },
        data,
        seed,
        "scikit-learn digits",
      );
      out.imageShape = [8, 8];
      return out;
    }
    case "mnist":
    case "fashion-mnist": {
      const load = data.name === "mnist" ? loadMnist : loadFashionMnist;
      const dir = typeof data.dir === "string" ? { dir: data.dir } : {};
      const trainSet = await load({ split: "train", limit: (data.trainLimit as number | undefined) ?? 10000, ...dir });
      const testSet = await load({ split: "test", limit: (data.testLimit as number | undefined) ?? 2000, ...dir });
      const train = imagesToFeatures(trainSet);
      const test = imagesToFeatures(testSet);
      const what = data.name === "mnist" ? "MNIST" : "Fashion-MNIST";
      return {
        kind: "features",
        description: `${what} (${train.features.rows} train / ${test.features.rows} test, 10 classes)`,
        train: { inputs: train.features, labels: train.labels as number[] },
        test: { inputs: test.features, labels: test.labels as number[] },
        classNames: trainSet.classNames,
        dim: train.features.cols,
        imageShape: [trainSet.rows, trainSet.cols],
      };
    }
    case "csv": {
      const set = await readCsvFeatures(data.path as string, {
        header: data.header as boolean | undefined,
        labelColumn: data.labelColumn as number | string | undefined,
        delimiter: data.delimiter as string | undefined,
      });
      const scaled = typeof data.scale === "number" ? { ...set, features: scaleMatrix(set.features, data.scale) } : set;
      return splitFeatures(scaled, data, seed, `CSV ${data.path}`);
    }
    case "wordnet": {
      const synsets = await loadWordNet({ pos: data.pos as ("noun" | "verb" | "adj" | "adv")[] | undefined });
      const groups = wordnetGlossGroups(synsets);
      return splitTexts(
        groups.map((g) => g.obj),
        groups.map((g) => g.group),
        data,
        seed,
        "WordNet 3.1 glosses by lexicographer class",
        [...WORDNET_LEXNAMES],
      );
    }
    case "verses": {
      const pairs = await loadVersePairs({ books: data.books as string[] | undefined });
      return splitPairs(
        pairs.map((p) => p.kjv),
        pairs.map((p) => p.web),
        pairs.map(() => 1),
        data,
        seed,
        "King James / World English verse pairs",
      );
    }
    case "jsonl": {
      if (data.format === "pairs") {
        const pairs = await readJsonlPairs(data.path as string);
        return splitPairs(
          pairs.map((p) => String(p.objA)),
          pairs.map((p) => String(p.objB)),
          pairs.map((p) => p.score ?? 1),
          data,
          seed,
          `JSONL pairs ${data.path}`,
        );
      }
      const groups = await readJsonlGroups(data.path as string);
      if (groups.every((g) => typeof g.obj === "string")) {
        return splitTexts(
          groups.map((g) => g.obj as string),
          groups.map((g) => g.group),
          data,
          seed,
          `JSONL ${data.path}`,
        );
      }
      const bad = groups.findIndex((g) => !Array.isArray(g.obj));
      if (bad >= 0) {
        throw new LikenessError(
          "INVALID_ARGUMENT",
          `Cannot use ${data.path}: line ${bad + 1} has an obj that is neither a text nor a list of numbers`,
        );
      }
      const { labeledFeatures } = await import("@likeness/data");
      const set = labeledFeatures(groups.map((g) => g.obj as number[]), groups.map((g) => g.group));
      return splitFeatures(set, data, seed, `JSONL ${data.path}`);
    }
    default:
      throw new LikenessError("UNKNOWN_NAME", `Unknown data set "${data.name}"`);
  }
}
