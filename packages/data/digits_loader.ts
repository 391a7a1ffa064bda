/**
 * Loader for scikit-learn's 8×8 digits (1,797 samples × 64 features, 10 classes) from the
 * `digits.csv.gz` file inside Debian's `python3-sklearn` package, taken without installing it.
 *
 * @module
 */
import { join } from "node:path";
import { csvFeatures } from "./csv.ts";
import type { LabeledFeatures } from "./features.ts";
import { dataDirFromEnv, firstExisting, missing, readText, repoRoots } from "./_files.ts";

/** Where the file sits inside an unpacked `python3-sklearn` package. */
const INNER = "usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz";

/** The commands that make the file available for {@link loadDigits}. */
export const DIGITS_INSTALL =
  "cd /tmp && apt-get download python3-sklearn && dpkg -x python3-sklearn_*.deb <repo>/.cache/sklearn " +
  "(or set LIKENESS_DATA_DIR to a folder holding digits.csv.gz)";

function candidatesIn(base: string): string[] {
  return [join(base, "digits.csv.gz"), join(base, "digits.csv"), join(base, INNER), join(base, "sklearn", INNER)];
}

/**
 * Load scikit-learn's digits: 64 pixel intensities (0-16) per sample and the digit. Looks in
 * `path` (a file or folder), then `$LIKENESS_DATA_DIR`, then `<repo>/.cache/sklearn`, then a
 * system-wide scikit-learn.
 *
 * @param options `path`: a digits.csv(.gz) file or a folder holding one (or an unpacked package)
 * @returns 1,797 × 64 features with labels 0-9
 * @throws {LikenessError} MISSING_DEPENDENCY naming the apt-get download / dpkg -x commands when absent
 * @throws {ShapeError} / {ValueError} for a malformed file (ragged rows, non-numeric values)
 * @example
 * ```ts
 * import { loadDigits } from "@likeness/data";
 * const d = await loadDigits();
 * console.log(d.features.rows, d.features.cols); // 1797 64
 * ```
 */
export async function loadDigits(options: { path?: string } = {}): Promise<LabeledFeatures> {
  const env = dataDirFromEnv();
  const looked: string[] = [];
  if (options.path !== undefined) looked.push(options.path, ...candidatesIn(options.path));
  else {
    if (env) looked.push(...candidatesIn(env), ...candidatesIn(join(env, "sklearn")));
    for (const root of repoRoots()) looked.push(...candidatesIn(join(root, ".cache", "sklearn")));
    looked.push(join("/", INNER));
  }
  const file = firstExisting(looked.filter((p) => /\.csv(\.gz)?$/.test(p)));
  if (!file) {
    throw missing(
      "scikit-learn digits",
      DIGITS_INSTALL,
      options.path !== undefined ? [options.path] : [env, ...repoRoots().map((r) => join(r, ".cache", "sklearn"))],
    );
  }
  const set = csvFeatures(await readText(file), { labelColumn: -1, numericLabels: true });
  set.classNames = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
  return set;
}
