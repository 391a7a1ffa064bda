/**
 * Models of likeness: the {@link Encoder} and {@link Head} interfaces, trainable encoders
 * (MLP, small convnet), the frozen USE-lite sentence encoder with our own SentencePiece
 * tokenizer, Quaterion's heads, a switch encoder, {@link SimilarityModel} (encoder + head,
 * batched `encode`), a type registry and the servable artifact (save/load).
 *
 * @example
 * ```ts
 * import { ConvNetEncoder, LinearHead, SimilarityModel } from "@likeness/models";
 * const model = new SimilarityModel(
 *   new ConvNetEncoder({ inputShape: [28, 28, 1], conv: [{ filters: 8, pool: 2 }], outputDim: 32, seed: 1 }),
 *   new LinearHead({ inputDim: 32, outputDim: 16, seed: 2 }),
 * );
 * const e = await model.encode([new Float32Array(784)], { batchSize: 64 });
 * await model.save("/tmp/likeness-model", { overwrite: true });
 * const again = await SimilarityModel.load("/tmp/likeness-model");
 * console.log(e.cols, again.dim); // 16 16
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./mlp_encoder.ts";
export * from "./convnet_encoder.ts";
export * from "./tokenizer.ts";
export * from "./use_lite_encoder.ts";
export * from "./use_lite_files.ts";
export * from "./mobilenet_v2_encoder.ts";
export * from "./mobilenet_v2_files.ts";
export * from "./switch_encoder.ts";
export * from "./empty_head.ts";
export * from "./linear_head.ts";
export * from "./gated_head.ts";
export * from "./skip_connection_head.ts";
export * from "./widening_head.ts";
export * from "./sequential_head.ts";
export * from "./stacked_projection_head.ts";
export * from "./softmax_embeddings_head.ts";
export * from "./similarity_model.ts";
export * from "./registry.ts";
export * from "./weights.ts";
export * from "./artifact.ts";
export * from "./artifact_fs.ts";
