/**
 * Component declarations: every loss, miner, distance, reducer, encoder, head and index kind
 * states its name, a one-line summary, its parameters (types, defaults, ranges and enums, as
 * {@link Schema}s) and its constructor once, in a {@link ComponentRegistry} of its family. The CLI
 * config, the artifact loader, the docs and the server's OpenAPI document read these declarations
 * instead of keeping their own lists.
 *
 * An unknown name, an unknown parameter or a value out of its declared range is one typed error,
 * {@link ComponentError}: code `UNKNOWN_NAME` (details `valid`: the names to use) or
 * `INVALID_ARGUMENT` (details `issues`: each bad parameter with its path and the fix).
 *
 * @example
 * ```ts
 * import { ComponentRegistry, s } from "@likeness/core";
 * import assert from "node:assert/strict";
 * const shapes = new ComponentRegistry<{ side: number }>("shape");
 * shapes.register({
 *   name: "square",
 *   summary: "A square of a given side.",
 *   params: { side: s.positive(1) },
 *   create: (p) => ({ side: (p.side as number | undefined) ?? 1 }),
 * });
 * assert.equal(shapes.create("square", { side: 2 }).side, 2);
 * assert.throws(() => shapes.create("circle"), { code: "UNKNOWN_NAME" });
 * assert.throws(() => shapes.create("square", { side: -1 }), { code: "INVALID_ARGUMENT" });
 * ```
 *
 * @module
 */
import { type ErrorCode, ValueError } from "./errors.ts";
import { formatIssues, type Issue, type ObjectSchema, s, type Schema, validate } from "./schema.ts";
import { didYouMean } from "./suggest.ts";

/** Parameters as given (JSON-like values; live objects such as a `Distance` for the library call). */
export type ComponentParams = Record<string, unknown>;

/**
 * One component, declared once: what the CLI, the artifact loader, the docs and the OpenAPI
 * document know of it.
 */
export interface ComponentDeclaration<T> {
  /** The name configs and artifacts use (`TripletMarginLoss`, `linear`, `hnsw`). */
  name: string;
  /** Other names it answers to (a peer's spelling, the exported class name). */
  aliases?: readonly string[];
  /** One line saying what it is. */
  summary: string;
  /** Its parameters; a required one is marked by `required` on {@link ComponentDeclaration.required}. */
  params: Record<string, Schema>;
  /** Parameters that must be given (no default). */
  required?: readonly string[];
  /** Accept parameters beyond the declared ones unchecked (a caller-registered factory that declares none). */
  open?: boolean;
  /**
   * Family-specific facts a reader needs (a loss's `target`: `labels` or `pairs`; parameters the
   * CLI fills from the data, such as `classes: "numClasses"`; what an encoder `reads`).
   */
  meta?: object;
  /** Values for the required parameters that make a small working example (used by the tests). */
  example?: ComponentParams;
  /**
   * Build it. `params` have passed the declared schema, except values a caller passes as live
   * objects (see {@link ComponentRegistry.create}).
   */
  create(params: ComponentParams): T;
}

/** The one error of component look-ups: an unknown name or parameters outside their declaration. */
export class ComponentError extends ValueError {
  /** The family (`loss`, `miner`, `head`, `index kind`). */
  readonly family: string;
  /** Names to use (for `UNKNOWN_NAME`) or the parameter names of the component (`INVALID_ARGUMENT`). */
  readonly valid: readonly string[];
  /** Each bad parameter (for `INVALID_ARGUMENT`). */
  readonly issues: readonly Issue[];

  /**
   * @param code `UNKNOWN_NAME` or `INVALID_ARGUMENT`
   * @param message what is wrong and the fix
   * @param family the family
   * @param valid the valid names
   * @param issues bad parameters
   */
  constructor(code: ErrorCode, message: string, family: string, valid: readonly string[], issues: Issue[] = []) {
    super(code, message, { details: { family, valid: [...valid], issues } });
    this.name = "ComponentError";
    this.family = family;
    this.valid = valid;
    this.issues = issues;
  }
}

/**
 * The declarations of one component family, by name (aliases resolve to their component).
 *
 * @example
 * ```ts
 * import { ComponentRegistry, s } from "@likeness/core";
 * import assert from "node:assert/strict";
 * const reg = new ComponentRegistry<number>("number");
 * reg.register({ name: "one", aliases: ["uno"], summary: "1", params: {}, create: () => 1 });
 * assert.deepEqual(reg.names(), ["one"]);
 * assert.equal(reg.get("uno").name, "one");
 * ```
 */
export class ComponentRegistry<T> {
  /** What the family's members are called in messages (`loss`, `index kind`). */
  readonly family: string;
  readonly #byName = new Map<string, ComponentDeclaration<T>>();
  readonly #aliases = new Map<string, string>();

  /**
   * @param family what a member is called in messages
   */
  constructor(family: string) {
    this.family = family;
  }

  /**
   * Declare a component (a later declaration of the same name replaces the earlier one).
   *
   * @param decl its declaration
   * @returns the declaration
   * @throws {ValueError} INVALID_ARGUMENT when a required parameter is not declared
   * @example
   * ```ts
   * import { ComponentRegistry } from "@likeness/core";
   * const reg = new ComponentRegistry<string>("greeting");
   * reg.register({ name: "hello", summary: "Says hello.", params: {}, create: () => "hello" });
   * ```
   */
  register(decl: ComponentDeclaration<T>): ComponentDeclaration<T> {
    for (const r of decl.required ?? []) {
      if (!(r in decl.params)) {
        throw new ValueError(
          "INVALID_ARGUMENT",
          `Cannot declare ${this.family} ${decl.name}: required "${r}" is not a parameter`,
        );
      }
    }
    this.#byName.set(decl.name, decl);
    for (const a of decl.aliases ?? []) if (a !== decl.name) this.#aliases.set(a, decl.name);
    return decl;
  }

  /**
   * The canonical names, in declaration order.
   *
   * @returns names (aliases left out)
   * @example
   * ```ts
   * import { LOSS_REGISTRY } from "@likeness/losses";
   * import assert from "node:assert/strict";
   * assert.ok(LOSS_REGISTRY.names().includes("TripletMarginLoss"));
   * ```
   */
  names(): string[] {
    return [...this.#byName.keys()];
  }

  /**
   * Every name a config may use: the canonical names, then the aliases.
   *
   * @returns names and aliases
   * @example
   * ```ts
   * import { LOSS_REGISTRY } from "@likeness/losses";
   * import assert from "node:assert/strict";
   * assert.ok(LOSS_REGISTRY.allNames().includes("PmlTripletMarginLoss"));
   * ```
   */
  allNames(): string[] {
    return [...this.#byName.keys(), ...[...this.#aliases.keys()].filter((a) => !this.#byName.has(a))];
  }

  /**
   * The declarations, in declaration order.
   *
   * @returns declarations
   * @example
   * ```ts
   * import { HEAD_REGISTRY } from "@likeness/models";
   * import assert from "node:assert/strict";
   * assert.ok(HEAD_REGISTRY.list().map((d) => d.name).includes("linear"));
   * ```
   */
  list(): ComponentDeclaration<T>[] {
    return [...this.#byName.values()];
  }

  /**
   * Whether a name (or alias) is declared.
   *
   * @param name the name
   * @returns whether {@link ComponentRegistry.get} finds it
   * @example
   * ```ts
   * import { INDEX_KIND_REGISTRY } from "@likeness/backend";
   * import assert from "node:assert/strict";
   * assert.equal(INDEX_KIND_REGISTRY.has("hnsw"), true);
   * ```
   */
  has(name: string): boolean {
    return this.#byName.has(name) || this.#aliases.has(name);
  }

  /**
   * The declaration of a name or alias.
   *
   * @param name the name
   * @returns its declaration
   * @throws {ComponentError} UNKNOWN_NAME listing the declared names
   * @example
   * ```ts
   * import { LOSS_REGISTRY } from "@likeness/losses";
   * import assert from "node:assert/strict";
   * assert.equal(LOSS_REGISTRY.get("PmlTripletMarginLoss").name, "TripletMarginLoss");
   * ```
   */
  get(name: string): ComponentDeclaration<T> {
    const decl = typeof name === "string" ? this.#byName.get(this.#aliases.get(name) ?? name) : undefined;
    if (!decl) {
      const names = this.names();
      const hint = typeof name === "string" ? didYouMean(name, this.allNames()) : "";
      throw new ComponentError(
        "UNKNOWN_NAME",
        `Unknown ${this.family} ${JSON.stringify(name)}${hint}: use one of ${names.join(", ")}`,
        this.family,
        names,
      );
    }
    return decl;
  }

  /**
   * The object schema of a component's parameters (required ones marked), for validators and
   * documents.
   *
   * @param name the name
   * @returns an object schema
   * @throws {ComponentError} UNKNOWN_NAME
   * @example
   * ```ts
   * import { toJsonSchema } from "@likeness/core";
   * import { INDEX_KIND_REGISTRY } from "@likeness/backend";
   * console.log(Object.keys(toJsonSchema(INDEX_KIND_REGISTRY.schema("int8")).properties as object));
   * ```
   */
  schema(name: string): ObjectSchema {
    return paramsSchema(this.get(name));
  }

  /**
   * Check parameters against a component's declaration.
   *
   * @param name the name
   * @param params the given parameters
   * @param path root of the reported paths (default `params`)
   * @returns every problem (empty when valid)
   * @throws {ComponentError} UNKNOWN_NAME
   * @example
   * ```ts
   * import { INDEX_KIND_REGISTRY } from "@likeness/backend";
   * import assert from "node:assert/strict";
   * assert.equal(INDEX_KIND_REGISTRY.issues("int8", { oversample: 0 })[0].path, "params.oversample");
   * ```
   */
  issues(name: string, params: unknown, path = "params"): Issue[] {
    const decl = this.get(name);
    if (decl.open && params && typeof params === "object") {
      params = Object.fromEntries(Object.entries(params).filter(([k]) => k in decl.params));
    }
    return validate(params ?? {}, paramsSchema(decl), path);
  }

  /**
   * The declared defaults of a component's parameters, plus its example values for required ones.
   *
   * @param name the name
   * @returns parameter → default
   * @throws {ComponentError} UNKNOWN_NAME
   * @example
   * ```ts
   * import { INDEX_KIND_REGISTRY } from "@likeness/backend";
   * import assert from "node:assert/strict";
   * assert.equal(INDEX_KIND_REGISTRY.defaults("int8").oversample, 4);
   * ```
   */
  defaults(name: string): ComponentParams {
    const decl = this.get(name);
    const out: ComponentParams = {};
    for (const [k, v] of Object.entries(decl.params)) {
      if ("default" in v && v.default !== undefined) out[k] = v.default;
    }
    return { ...out, ...(decl.example ?? {}) };
  }

  /**
   * Build a component after checking its parameters against the declaration. Parameters named
   * in `live` are passed through unchecked (objects built by the caller, such as a `Distance`).
   *
   * @param name the name (or an alias)
   * @param params its parameters
   * @param live parameter names whose values are live objects, not JSON
   * @returns the component
   * @throws {ComponentError} UNKNOWN_NAME listing the names; INVALID_ARGUMENT listing each bad parameter
   * @example
   * ```ts
   * import { INDEX_KIND_REGISTRY } from "@likeness/backend";
   * import assert from "node:assert/strict";
   * const index = await INDEX_KIND_REGISTRY.create("flat", { dim: 3 });
   * assert.equal(index.info().kind, "flat");
   * index.dispose();
   * ```
   */
  create(name: string, params: ComponentParams = {}, live: readonly string[] = []): T {
    const decl = this.get(name);
    const checked: ComponentParams = {};
    for (const [k, v] of Object.entries(params ?? {})) {
      if (!live.includes(k) && v !== undefined && (!decl.open || k in decl.params)) checked[k] = v;
    }
    const issues = validate(checked, paramsSchema(decl), "params");
    if (issues.length > 0) {
      throw new ComponentError(
        "INVALID_ARGUMENT",
        `Invalid parameters for ${this.family} ${decl.name}: ${formatIssues(issues).replaceAll("\n", "; ")}`,
        this.family,
        Object.keys(decl.params),
        issues,
      );
    }
    return decl.create(params ?? {});
  }
}

function paramsSchema(decl: ComponentDeclaration<unknown>): ObjectSchema {
  const schema = s.object(decl.params);
  for (const r of decl.required ?? []) schema.fields[r] = { ...schema.fields[r], required: true };
  return schema;
}
