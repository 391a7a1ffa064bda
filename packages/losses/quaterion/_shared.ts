/**
 * Private helpers shared by the Quaterion-family losses.
 *
 * @module
 */
import { type Distance, distance as makeDistance, type DistanceName } from "../distances.ts";

/** Default distance of Quaterion's group losses: cosine in its matrix form `(1 - cos) / 2`. */
export function quaterionDefaultDistance(d: Distance | DistanceName | undefined): Distance {
  if (d === undefined) return makeDistance("cosine", { scale: "half" });
  return typeof d === "string" ? makeDistance(d) : d;
}
