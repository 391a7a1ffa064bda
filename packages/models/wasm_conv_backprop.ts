/**
 * `Conv2DBackpropFilter` for tfjs-backend-wasm 4.22, which lacks it, composed from kernels
 * the wasm backend has (Transpose, Conv2D, Slice):
 *
 *   dW[i, j, c, o] = Σ_{b,h,w} xpad[b, h·s + i, w·s + j, c] · dy[b, h, w, o]
 *
 * is a convolution of `x` transposed to `[C, H, W, B]` with `dy` transposed to
 * `[Ho, Wo, B, Co]` used as the filter, dilated by the stride. The result `[C, kh, kw, Co]`
 * is transposed to `[kh, kw, C, Co]`. Registered only where no kernel exists yet, so a
 * dedicated (AssemblyScript) kernel registered earlier takes precedence.
 *
 * @module
 */
import { ValueError } from "@likeness/core";
import { tf } from "@likeness/tf";

interface WasmBackendLike {
  disposeData(dataId: object): void;
}
type Info = { dataId: object; shape: number[]; dtype: string };
type KernelFn = (
  args: { inputs: Record<string, Info>; backend: WasmBackendLike; attrs: Record<string, unknown> },
) => Info;

function kernel(name: string): KernelFn {
  const k = tf.getKernel(name, "wasm");
  if (!k) {
    throw new ValueError("UNSUPPORTED", `tfjs-backend-wasm has no ${name} kernel; cannot compose Conv2DBackpropFilter`);
  }
  return k.kernelFunc as unknown as KernelFn;
}

function conv2dBackpropFilter(
  args: { inputs: Record<string, Info>; backend: WasmBackendLike; attrs: Record<string, unknown> },
): Info {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  const filterShape = attrs.filterShape as [number, number, number, number];
  const dataFormat = (attrs.dataFormat as string | undefined) ?? "NHWC";
  if (dataFormat !== "NHWC") {
    throw new ValueError(
      "UNSUPPORTED",
      `Conv2DBackpropFilter on wasm supports NHWC only (got ${dataFormat}); use the cpu backend`,
    );
  }
  const strides = attrs.strides as number | [number, number];
  const [sh, sw] = typeof strides === "number" ? [strides, strides] : strides;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    [sh, sw],
    1,
    attrs.pad as "same" | "valid" | number,
    attrs.dimRoundingMode as "floor" | "round" | "ceil" | undefined,
  );
  const { top, bottom, left, right } = info.padInfo;
  const [kh, kw] = filterShape;
  const transpose = kernel("Transpose");
  const conv = kernel("Conv2D");
  const tmp: Info[] = [];
  try {
    const xt = transpose({ inputs: { x }, backend, attrs: { perm: [3, 1, 2, 0] } }); // [C, H, W, B]
    tmp.push(xt);
    const dyt = transpose({ inputs: { x: dy }, backend, attrs: { perm: [1, 2, 0, 3] } }); // [Ho, Wo, B, Co]
    tmp.push(dyt);
    let g = conv({
      inputs: { x: xt, filter: dyt },
      backend,
      attrs: {
        strides: [1, 1],
        pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
        dataFormat: "NHWC",
        dilations: [sh, sw],
      },
    }); // [C, >=kh, >=kw, Co]
    tmp.push(g);
    if (g.shape[1] !== kh || g.shape[2] !== kw) {
      g = kernel("Slice")({
        inputs: { x: g },
        backend,
        attrs: { begin: [0, 0, 0, 0], size: [g.shape[0], kh, kw, g.shape[3]] },
      });
      tmp.push(g);
    }
    const out = transpose({ inputs: { x: g }, backend, attrs: { perm: [1, 2, 0, 3] } }); // [kh, kw, C, Co]
    return out;
  } finally {
    for (const t of tmp) backend.disposeData(t.dataId);
  }
}

/**
 * Register the composed `Conv2DBackpropFilter` kernel with tfjs-backend-wasm, unless the
 * backend already has one. Called when `@likeness/models` loads, so convnets train on `wasm`.
 *
 * @returns true when this call registered it
 * @example
 * ```ts
 * import { registerWasmConvBackpropFilter } from "@likeness/models";
 * console.log(registerWasmConvBackpropFilter()); // false: already registered on import
 * ```
 */
export function registerWasmConvBackpropFilter(): boolean {
  if (tf.getKernel("Conv2DBackpropFilter", "wasm")) return false;
  tf.registerKernel({
    kernelName: "Conv2DBackpropFilter",
    backendName: "wasm",
    kernelFunc: conv2dBackpropFilter as unknown as tf.KernelFunc,
  });
  return true;
}

registerWasmConvBackpropFilter();
