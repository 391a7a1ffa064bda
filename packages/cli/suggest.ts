/**
 * "Did you mean …?" suggestions, which live in `@likeness/core` (`suggest.ts`); re-exported
 * here for the CLI's callers.
 *
 * @module
 */
export { didYouMean, editDistance, suggest } from "@likeness/core";
