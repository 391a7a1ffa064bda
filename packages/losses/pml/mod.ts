/**
 * pytorch-metric-learning 2.8.1's losses on tfjs, with pml's parameter names (camelCased), defaults,
 * default distances and reducers. Class names carry a `Pml` prefix (`PmlContrastiveLoss`) so they sit
 * beside Quaterion's losses of the same name; each loss's `name` is pml's class name.
 *
 * @example
 * ```ts
 * import { tf, useTfBackend } from "@likeness/tf";
 * import { PmlMultiSimilarityLoss, PmlProxyAnchorLoss } from "@likeness/losses";
 * await useTfBackend("wasm");
 * const x = tf.tensor2d([[1, 0], [0.9, 0.2], [0, 1], [0.1, 0.9]]);
 * const labels = [0, 0, 1, 1];
 * console.log(new PmlMultiSimilarityLoss().compute(x, { labels }).dataSync()[0]);
 * const proxy = new PmlProxyAnchorLoss({ numClasses: 2, embeddingSize: 2 });
 * console.log(proxy.compute(x, { labels }).dataSync()[0], proxy.trainableVariables().length); // … 1
 * ```
 *
 * @module
 */
export * from "./triplet_margin.ts";
export * from "./pml_distance.ts";
export { PmlContrastiveLoss, type PmlContrastiveLossOptions } from "./contrastive.ts";
export * from "./snr_contrastive.ts";
export * from "./multi_similarity.ts";
export * from "./ntxent.ts";
export * from "./sup_con.ts";
export * from "./circle.ts";
export * from "./lifted_structure.ts";
export * from "./generalized_lifted_structure.ts";
export * from "./margin.ts";
export * from "./n_pairs.ts";
export { PmlNCALoss, type PmlNCALossOptions } from "./nca.ts";
export * from "./fast_ap.ts";
export * from "./tuplet_margin.ts";
export * from "./arc_face.ts";
export * from "./cos_face.ts";
export * from "./normalized_softmax.ts";
export * from "./proxy_anchor.ts";
export * from "./proxy_nca.ts";
export * from "./sub_center_arc_face.ts";
export * from "./soft_triple.ts";
export * from "./angular.ts";
export * from "./histogram.ts";
export * from "./instance.ts";
