/**
 * Every golden adapter, one file per group: quaterion (losses and distances), pml_losses,
 * miners and metrics. The runner tries them in this order; the first that matches a case wins.
 *
 * @module
 */
import type { GoldenAdapter } from "../types.ts";
import { adapters as quaterion } from "./quaterion.ts";
import { adapters as pmlLosses } from "./pml_losses.ts";
import { adapters as miners } from "./miners.ts";
import { adapters as metrics } from "./metrics.ts";

/** All adapters, in lookup order. */
export const adapters: readonly GoldenAdapter[] = [...quaterion, ...pmlLosses, ...miners, ...metrics];
