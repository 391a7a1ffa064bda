/**
 * The {@link ReportData} type: everything the HTML report shows. Only `summary` is required;
 * every other section is skipped when absent.
 *
 * @module
 */
import type { Matrix } from "@likeness/core";
import type { ImagePixels } from "./png.ts";
import type { ProjectionMethod } from "./project.ts";

/** What was trained, on what, and how long it took. */
export interface RunSummary {
  /** Data set name, e.g. `"MNIST (10 classes, 60,000 train / 10,000 test)"`. */
  dataset: string;
  /** Model description, e.g. `"MLP 784-256-64, L2-normalised"`. */
  model: string;
  /** Loss description, e.g. `"TripletMarginLoss (margin 0.2, semi-hard miner)"`. */
  loss: string;
  /** Epochs trained. */
  epochs?: number;
  /** Wall time of the whole run in seconds. */
  wallTimeSeconds?: number;
  /** Compute backend that ran it, e.g. `"wasm-simd (2 threads)"`. */
  backend?: string;
  /** Further rows for the summary (name → value), shown in insertion order. */
  extra?: Record<string, string | number>;
}

/** Metric values of the trained model beside the untrained baseline. */
export interface MetricsComparison {
  /** Trained model: metric name → value (any names, e.g. `precision@1`, `mAP@R`, `NMI`). */
  trained: Record<string, number>;
  /** Untrained (randomly initialised or frozen) baseline, same metric names; optional. */
  baseline?: Record<string, number>;
  /**
   * Metric names where smaller is better (e.g. `"loss"`); the change column is coloured by
   * this. Every other metric is taken as larger-is-better.
   */
  lowerIsBetter?: string[];
}

/** One line of a chart. */
export interface Series {
  /** Legend text. */
  name: string;
  /** X values (epochs or steps), same length as `y`. */
  x: ArrayLike<number>;
  /** Y values; non-finite values break the line (gaps). */
  y: ArrayLike<number>;
  /** Dashed line (e.g. for the baseline or validation) (default false). */
  dashed?: boolean;
}

/** A line chart of values per epoch or step (loss, a metric). */
export interface Curve {
  /** Chart title, e.g. `"Training loss"`. */
  title: string;
  /** X axis label (default `"epoch"`). */
  xLabel?: string;
  /** Y axis label (default: none). */
  yLabel?: string;
  /** The lines; at least one. */
  series: Series[];
  /** Use a log scale on y (all values must be positive) (default false). */
  logY?: boolean;
}

/** The 2-D map of test embeddings, coloured by class. */
export interface EmbeddingMap {
  /**
   * Either raw embeddings (`n × d`, projected here with {@link EmbeddingMap.method}) or
   * points already projected to 2-D (`n × 2` with `projected: true`).
   */
  embeddings: number[][] | Matrix;
  /** One class label per row (numbers or names). */
  labels: ArrayLike<string | number>;
  /** Display names of classes, indexed by numeric label (optional). */
  classNames?: string[];
  /** `embeddings` are already 2-D coordinates (default false). */
  projected?: boolean;
  /** Projection method (default `"pca"`). */
  method?: ProjectionMethod;
  /** Projection seed (default 0). */
  seed?: number;
  /** Chart title (default `"Test embeddings"`). */
  title?: string;
  /** At most this many points are drawn (a seeded random subset beyond it) (default 2000). */
  maxPoints?: number;
}

/** A data item shown in the examples: an image, a text, or both. */
export interface ExampleItem {
  /** Class label (name or number) of the item, if known. */
  label?: string | number;
  /** Text of the item (text data sets). */
  text?: string;
  /** Image of the item (image data sets), drawn as an inline PNG thumbnail. */
  image?: ImagePixels;
}

/** One neighbour of a query. */
export interface Neighbour {
  /** The retrieved item. */
  item: ExampleItem;
  /** Distance (or similarity) to the query. */
  distance: number;
  /** Whether it is a correct match (same class); default: labels compared when both present. */
  match?: boolean;
}

/** An example query and its nearest neighbours, best first. */
export interface QueryExample {
  /** The query item. */
  query: ExampleItem;
  /** Nearest neighbours, best first. */
  neighbours: Neighbour[];
}

/** One point of the calibration curve. */
export interface CalibrationPoint {
  /** Distance (or similarity) threshold. */
  threshold: number;
  /** Precision of "match" decisions at this threshold, in [0, 1]. */
  precision: number;
  /** Recall of "match" decisions at this threshold, in [0, 1]. */
  recall: number;
}

/** Precision and recall against the match threshold, with the chosen threshold marked. */
export interface Calibration {
  /** Curve points (any order; sorted by threshold for drawing). */
  points: CalibrationPoint[];
  /** The chosen threshold (e.g. from `calibrateThreshold` in `@likeness/eval`). */
  chosen?: CalibrationPoint;
  /** What the threshold measures (default `"distance"`), e.g. `"cosine distance"`. */
  distanceName?: string;
  /** How the threshold was chosen, e.g. `"precision ≥ 0.99"`. */
  note?: string;
}

/** Everything the report shows. Only `summary` is required. */
export interface ReportData {
  /** Page title (default `"likeness report"`). */
  title?: string;
  /** Run summary shown at the top. */
  summary: RunSummary;
  /** Metrics table: trained model beside the untrained baseline. */
  metrics?: MetricsComparison;
  /** Loss and metric curves per epoch or step. */
  curves?: Curve[];
  /** 2-D map of test embeddings coloured by class. */
  embeddingMap?: EmbeddingMap;
  /** Example queries with their nearest neighbours. */
  examples?: QueryExample[];
  /** Calibration curve. */
  calibration?: Calibration;
  /** Free text shown at the bottom (e.g. the command that serves the model, a timestamp). */
  footer?: string;
}
