/**
 * WebGPU feature probe: is there an adapter, and is it a real GPU or a software fallback
 * (llvmpipe, lavapipe, SwiftShader, WARP)? A missing `navigator.gpu` or a `null` adapter means
 * "unavailable", never an error.
 *
 * @module
 */

/** What {@link probeWebGpu} found. */
export interface WebGpuProbe {
  /** The adapter, or null when WebGPU is unavailable. */
  adapter: GPUAdapter | null;
  /** Whether the adapter is a software fallback (reported by the adapter, or a known software name). */
  fallback: boolean;
  /** Adapter description (vendor, device, description), or "" when none. */
  description: string;
  /** Why there is no adapter (when `adapter` is null). */
  reason?: string;
}

const SOFTWARE_NAMES = /llvmpipe|lavapipe|swiftshader|microsoft basic render|warp/i;

/**
 * Whether an adapter is a software fallback: `adapter.info.isFallbackAdapter` (current spec),
 * `adapter.isFallbackAdapter` (older), or a description naming a known software rasteriser.
 *
 * @param adapter a GPU adapter
 * @returns true for software adapters
 * @example
 * ```ts
 * import { isFallbackAdapter } from "@likeness/backend";
 * const a = await navigator.gpu?.requestAdapter();
 * if (a) console.log(isFallbackAdapter(a));
 * ```
 */
export function isFallbackAdapter(adapter: GPUAdapter): boolean {
  const a = adapter as GPUAdapter & {
    isFallbackAdapter?: boolean;
    info?: GPUAdapterInfo & { isFallbackAdapter?: boolean };
  };
  if (a.info?.isFallbackAdapter === true || a.isFallbackAdapter === true) return true;
  return SOFTWARE_NAMES.test(describeAdapter(adapter));
}

/**
 * One-line description of an adapter (vendor, architecture, device, description).
 *
 * @param adapter a GPU adapter
 * @returns e.g. `"nvidia hopper: NVIDIA H200"`
 * @example
 * ```ts
 * import { describeAdapter } from "@likeness/backend";
 * const a = await navigator.gpu?.requestAdapter();
 * if (a) console.log(describeAdapter(a));
 * ```
 */
export function describeAdapter(adapter: GPUAdapter): string {
  const info = (adapter as { info?: Partial<GPUAdapterInfo> }).info;
  if (!info) return "unknown adapter";
  const head = [info.vendor, info.architecture].filter((s) => s).join(" ");
  const tail = [info.description, info.device].filter((s) => s && s !== "0").join(" ");
  return [head, tail].filter((s) => s).join(": ") || "unknown adapter";
}

/**
 * Ask for a WebGPU adapter. Never throws: no `navigator.gpu`, a `null` adapter or a failing
 * request all return `adapter: null` with the reason.
 *
 * @param options `powerPreference` passed to `requestAdapter` (default `high-performance`)
 * @returns the adapter (or null), whether it is a fallback, its description, and a reason when null
 * @example
 * ```ts
 * import { probeWebGpu } from "@likeness/backend";
 * const p = await probeWebGpu();
 * console.log(p.adapter ? `${p.description} fallback=${p.fallback}` : p.reason);
 * ```
 */
export async function probeWebGpu(options: { powerPreference?: GPUPowerPreference } = {}): Promise<WebGpuProbe> {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu || typeof gpu.requestAdapter !== "function") {
    return {
      adapter: null,
      fallback: false,
      description: "",
      reason: "this runtime has no WebGPU (navigator.gpu is missing)",
    };
  }
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? "high-performance" });
  } catch (e) {
    return {
      adapter: null,
      fallback: false,
      description: "",
      reason: `requestAdapter failed: ${(e as Error).message}`,
    };
  }
  if (!adapter) {
    return {
      adapter: null,
      fallback: false,
      description: "",
      reason: "navigator.gpu.requestAdapter() returned null (no GPU adapter)",
    };
  }
  return { adapter, fallback: isFallbackAdapter(adapter), description: describeAdapter(adapter) };
}

/** A plain-data record of an adapter (or device): identity, every limit, every feature. */
export interface WebGpuAdapterRecord {
  /** `adapter.info` fields (vendor, architecture, device, description, fallback flag, subgroup sizes). */
  info: Record<string, string | number | boolean>;
  /** Every entry of `adapter.limits`. */
  limits: Record<string, number>;
  /** `adapter.features`, sorted. */
  features: string[];
}

/**
 * Copy an adapter's info, limits and features into plain JSON-ready data (for backend info,
 * benchmark records and `tools/gpu_check.sh`).
 *
 * @param adapter a GPU adapter (or anything with `info`, `limits` and `features`, such as a device's limits)
 * @returns the record
 * @example
 * ```ts
 * import { adapterRecord } from "@likeness/backend";
 * const a = await navigator.gpu?.requestAdapter();
 * if (a) console.log(adapterRecord(a).limits.maxComputeWorkgroupStorageSize);
 * ```
 */
export function adapterRecord(
  adapter: Pick<GPUAdapter, "limits" | "features"> & { info?: unknown },
): WebGpuAdapterRecord {
  const info: Record<string, string | number | boolean> = {};
  const src = (adapter.info ?? {}) as Record<string, unknown>;
  for (
    const key of [
      "vendor",
      "architecture",
      "device",
      "description",
      "isFallbackAdapter",
      "subgroupMinSize",
      "subgroupMaxSize",
    ]
  ) {
    const v = src[key];
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") info[key] = v;
  }
  return { info, limits: limitsRecord(adapter.limits), features: [...(adapter.features ?? [])].sort() };
}

/**
 * Every numeric entry of a `GPUSupportedLimits` (own or inherited), as a plain object.
 *
 * @param limits adapter or device limits
 * @returns name → value
 * @example
 * ```ts
 * import { limitsRecord } from "@likeness/backend";
 * console.log(limitsRecord({ maxBufferSize: 256 } as unknown as GPUSupportedLimits)); // { maxBufferSize: 256 }
 * ```
 */
export function limitsRecord(limits: GPUSupportedLimits): Record<string, number> {
  const out: Record<string, number> = {};
  const seen = new Set<string>();
  for (let o: object | null = limits; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const key of Object.getOwnPropertyNames(o)) seen.add(key);
  }
  for (const key in limits) seen.add(key);
  for (const key of [...seen].sort()) {
    const v = (limits as unknown as Record<string, unknown>)[key];
    if (typeof v === "number") out[key] = v;
  }
  return out;
}
