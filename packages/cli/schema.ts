/**
 * The config schema validator, which lives in `@likeness/core` (`schema.ts`) so that component
 * declarations, the CLI config and the server read one set of rules; re-exported here for the
 * CLI's callers.
 *
 * @module
 */
export {
  type AnySchema,
  type ArraySchema,
  type BooleanSchema,
  describeSchema,
  type EnumSchema,
  type Field,
  formatIssues,
  type Issue,
  type NumberSchema,
  type ObjectSchema,
  type OneOfSchema,
  s,
  type Schema,
  showValue,
  type StringSchema,
  type TaggedSchema,
  toJsonSchema,
  validate,
} from "@likeness/core";
