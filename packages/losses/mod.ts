/**
 * Losses, distances and reducers for similarity learning on tfjs. Every loss is a differentiable
 * function of the embeddings (plus labels, pairs or learned weights).
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { distance, TripletLoss } from "@likeness/losses";
 * await useTfBackend("wasm");
 * const loss = new TripletLoss({ margin: 0.5, distance: distance("cosine", { scale: "half" }) });
 * const emb = tf.tensor2d([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]]);
 * console.log(loss.compute(emb, { labels: [0, 0, 1, 1] }).arraySync());
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./base_loss.ts";
export * from "./distances.ts";
export * from "./grad_utils.ts";
export * from "./chunked.ts";
export * from "./reducers.ts";
export * from "./quaterion/triplet_loss.ts";
export * from "./pml/mod.ts";
export * from "./quaterion/online_contrastive_loss.ts";
export * from "./quaterion/contrastive_loss.ts";
export * from "./quaterion/multiple_negatives_ranking_loss.ts";
export * from "./quaterion/softmax_loss.ts";
export * from "./quaterion/arc_face_loss.ts";
export * from "./quaterion/cos_face_loss.ts";
export * from "./quaterion/circle_loss.ts";
export * from "./quaterion/fast_ap_loss.ts";
export * from "./quaterion/center_loss.ts";
export * from "./st/mod.ts";
export * from "./combine.ts";
export * from "./xbm.ts";
export * from "./registry.ts";
