/**
 * Golden adapters for Quaterion's distances and losses (lib "quaterion").
 *
 * Quaterion's cosine is `1 - cos` row-wise but `(1 - cos) / 2` as a matrix (its losses use the
 * matrix form): the adapter maps the matrix cases onto `distance("cosine", { scale: "half" })`.
 *
 * @module
 */
import { tf } from "@likeness/tf";
import {
  ArcFaceLoss,
  CenterLoss,
  CircleLoss,
  ContrastiveLoss,
  CosFaceLoss,
  distance,
  type DistanceName,
  FastAPLoss,
  type Loss,
  type LossTarget,
  MultipleNegativesRankingLoss,
  OnlineContrastiveLoss,
  SoftmaxLoss,
  TripletLoss,
} from "@likeness/losses";
import type { GoldenAdapter, GoldenCase } from "../types.ts";
import { inputMatrix, inputVector, lossValueAndGrad, toArray } from "../types.ts";

const QUATERION_DISTANCES: Record<string, DistanceName> = {
  cosine: "cosine",
  euclidean: "euclidean",
  manhattan: "manhattan",
  dot_product: "dot",
};

function quaterionDistanceName(c: GoldenCase): DistanceName {
  const name = String(c.params.distance ?? "cosine");
  const d = QUATERION_DISTANCES[name];
  if (!d) throw new Error(`case ${c.id}: unknown Quaterion distance ${name}`);
  return d;
}

const distanceAdapter: GoldenAdapter = {
  name: "quaterion/Distance",
  matches: (c) => c.lib === "quaterion" && c.name === "Distance",
  async run(c) {
    const name = quaterionDistanceName(c);
    const matrixForm = distance(name, { scale: name === "cosine" ? "half" : "full" });
    const rowForm = distance(name);
    const x = tf.tensor2d(inputMatrix(c, "x"));
    const y = tf.tensor2d(inputMatrix(c, "y"));
    const xr = tf.slice(x, [0, 0], [y.shape[0], -1]);
    try {
      return {
        distance_matrix_xx: await toArray(matrixForm.matrix(x)),
        distance_matrix_xy: await toArray(matrixForm.matrix(x, y)),
        similarity_matrix_xy: await toArray(matrixForm.similarityMatrix(x, y)),
        distance_rowwise: await toArray(rowForm.rowwise(xr, y)),
        similarity_rowwise: await toArray(rowForm.similarityRowwise(xr, y)),
      };
    } finally {
      tf.dispose([x, y, xr]);
    }
  },
};

/** Quaterion's loss matrix form: cosine is (1 - cos) / 2; the others are unchanged. */
function matrixDistance(c: GoldenCase) {
  const name = quaterionDistanceName(c);
  return distance(name, { scale: name === "cosine" ? "half" : "full" });
}

function lossAdapter(name: string, build: (c: GoldenCase) => { loss: Loss; target: LossTarget }): GoldenAdapter {
  return {
    name: `quaterion/${name}`,
    matches: (c) => c.lib === "quaterion" && c.name === name,
    async run(c) {
      const { loss, target } = build(c);
      return await lossValueAndGrad((e) => loss.compute(e, target), inputMatrix(c, "embeddings"));
    },
  };
}

const groups = (c: GoldenCase): LossTarget => ({ labels: inputVector(c, "groups") });

/** The options every class-weight loss takes from a case: sizes and the initial kernel. */
const classKernel = (c: GoldenCase) => ({
  embeddingSize: c.params.embedding_size as number,
  numGroups: c.params.num_groups as number,
  kernel: inputMatrix(c, "kernel"),
});

/** ArcFaceLoss and CosFaceLoss: the class kernel plus scale and margin. */
const marginClassKernel = (c: GoldenCase) => ({
  ...classKernel(c),
  scale: c.params.scale as number,
  margin: c.params.margin as number,
});

/** Quaterion adapters. */
export const adapters: GoldenAdapter[] = [
  distanceAdapter,
  lossAdapter("TripletLoss", (c) => ({
    loss: new TripletLoss({
      margin: c.params.margin as number,
      distance: matrixDistance(c),
      mining: c.params.mining as "all" | "hard" | "semi_hard",
      soft: c.params.soft as boolean,
    }),
    target: groups(c),
  })),
  lossAdapter("OnlineContrastiveLoss", (c) => ({
    loss: new OnlineContrastiveLoss({
      margin: c.params.margin as number,
      distance: matrixDistance(c),
      mining: c.params.mining as "all" | "hard",
    }),
    target: groups(c),
  })),
  lossAdapter("ContrastiveLoss", (c) => ({
    // Quaterion: row-wise distance() for the pairs, distance_matrix() for subgroup negatives
    loss: new ContrastiveLoss({
      margin: c.params.margin as number,
      distance: distance(quaterionDistanceName(c)),
      subgroupDistance: matrixDistance(c),
      sizeAverage: c.params.size_average as boolean,
    }),
    target: {
      pairs: inputMatrix(c, "pairs") as [number, number][],
      scores: inputVector(c, "labels"),
      subgroups: c.params.with_subgroups ? inputVector(c, "subgroups") : undefined,
    },
  })),
  lossAdapter("MultipleNegativesRankingLoss", (c) => ({
    loss: new MultipleNegativesRankingLoss({
      scale: c.params.scale as number,
      distance: matrixDistance(c),
      symmetric: c.params.symmetric as boolean,
    }),
    target: { pairs: inputMatrix(c, "pairs") as [number, number][], scores: inputVector(c, "labels") },
  })),
  lossAdapter("SoftmaxLoss", (c) => ({
    loss: new SoftmaxLoss({ ...classKernel(c), temperature: c.params.temperature as number }),
    target: groups(c),
  })),
  lossAdapter("ArcFaceLoss", (c) => ({ loss: new ArcFaceLoss(marginClassKernel(c)), target: groups(c) })),
  lossAdapter("CosFaceLoss", (c) => ({ loss: new CosFaceLoss(marginClassKernel(c)), target: groups(c) })),
  lossAdapter("CenterLoss", (c) => ({
    loss: new CenterLoss({
      embeddingSize: c.params.embedding_size as number,
      numGroups: c.params.num_groups as number,
      lambdaC: c.params.lambda_c as number,
      centers: inputMatrix(c, "centers"),
    }),
    target: groups(c),
  })),
  lossAdapter("CircleLoss", (c) => ({
    loss: new CircleLoss({
      margin: c.params.margin as number,
      scaleFactor: c.params.scale_factor as number,
      distance: matrixDistance(c),
    }),
    target: groups(c),
  })),
  lossAdapter("FastAPLoss", (c) => ({
    loss: new FastAPLoss({ numBins: c.params.num_bins as number }),
    target: groups(c),
  })),
];
