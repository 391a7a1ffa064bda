/**
 * Private helpers shared by the Quaterion-family losses.
 *
 * @module
 */
import { ValueError } from "@likeness/core";
import { type Distance, distance as makeDistance, type DistanceName } from "../distances.ts";

/** Default distance of Quaterion's group losses: cosine in its matrix form `(1 - cos) / 2`. */
export function quaterionDefaultDistance(d: Distance | DistanceName | undefined): Distance {
  if (d === undefined) return makeDistance("cosine", { scale: "half" });
  return typeof d === "string" ? makeDistance(d) : d;
}

/** Check a finite number option. */
export function _checkNumber(v: unknown, name: string, loss: string, min = -Infinity): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < min) {
    throw new ValueError(
      "INVALID_ARGUMENT",
      `Invalid ${loss} option ${name}: expected a finite number${min > -Infinity ? ` >= ${min}` : ""}, got ${v}`,
    );
  }
  return v;
}
