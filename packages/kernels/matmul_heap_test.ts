import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng, ValueError } from "@likeness/core";
import { assertClose } from "@likeness/core/testing";
import {
  createHeapMatMulKernels,
  hasRelaxedSimd,
  hasWasmSimd,
  type MatMulActivation,
  type MatMulVariant,
} from "@likeness/kernels";
import { matMulReference } from "@likeness/kernels/reference";

const VARIANTS: MatMulVariant[] = [
  "scalar",
  ...(hasWasmSimd() ? ["simd" as const] : []),
  ...(hasRelaxedSimd() ? ["relaxed" as const] : []),
];

/** A host heap: a bump allocator over a memory whose every byte starts as 0xA5. */
function host(pages = 64) {
  const memory = new WebAssembly.Memory({ initial: pages });
  new Uint8Array(memory.buffer).fill(0xa5);
  let top = 256;
  const freed: number[] = [];
  const heap = {
    malloc: (bytes: number) => {
      const at = top;
      top = (top + bytes + 7) & ~7; // 8-byte aligned, like Emscripten's
      return at;
    },
    free: (at: number) => void freed.push(at),
  };
  const put = (values: Float32Array) => {
    const view = new Float32Array(memory.buffer, heap.malloc(values.length * 4), values.length);
    view.set(values);
    return view;
  };
  return { memory, heap, freed, put, end: () => top };
}

function uniform(seed: number, n: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => rng.next() * 2 - 1);
}

test("heap matmul: every variant matches the reference in place over all tails, transposes and activations", () => {
  const acts: MatMulActivation[] = ["linear", "relu", "leakyrelu", "sigmoid", "elu", "prelu"];
  for (const v of VARIANTS) {
    const h = host();
    const k = createHeapMatMulKernels(h.memory, h.heap, { variant: v });
    let seed = 1;
    for (
      const [m, n, kk] of [
        [1, 1, 1],
        [2, 3, 5],
        [3, 5, 4],
        [5, 16, 17],
        [7, 9, 31],
        [8, 24, 513],
        [17, 65, 65],
        [6, 9, 257],
        [9, 17, 300],
        [515, 9, 70],
      ]
    ) {
      for (const transposeA of [false, true]) {
        for (const transposeB of [false, true]) {
          const activation = acts[seed % acts.length];
          const a = h.put(uniform(seed++, m * kk));
          const b = h.put(uniform(seed++, kk * n));
          const bias = h.put(uniform(seed++, n));
          const prelu = h.put(uniform(seed++, 1));
          const out = h.put(new Float32Array(m * n));
          const spec = { m, n, k: kk, transposeA, transposeB, bias, activation, prelu };
          const got = k.matMul(a, b, spec, out);
          assert.equal(got, out, "returns out");
          assertClose(out, matMulReference(a, b, spec), {
            rtol: 1e-5,
            atol: 2e-6 * Math.sqrt(kk) + 1e-6,
            what: `${v} ${m}×${kk}×${n} ${transposeA} ${transposeB} ${activation}`,
          });
        }
      }
    }
    k.dispose();
    assert.equal(h.freed.length, 1, "dispose frees the scratch");
  }
});

test("heap matmul: nothing of the host's memory changes but the output (no data segment, scratch from its heap)", () => {
  const h = host();
  const before = new Uint8Array(h.memory.buffer).slice();
  const k = createHeapMatMulKernels(h.memory, h.heap, { variant: VARIANTS[VARIANTS.length - 1] });
  const scratch = [256, h.end()];
  assert.deepEqual(new Uint8Array(h.memory.buffer), before, "instantiating writes nothing");
  const a = h.put(uniform(1, 7 * 9));
  const b = h.put(uniform(2, 9 * 11));
  const out = h.put(new Float32Array(7 * 11));
  const snapshot = new Uint8Array(h.memory.buffer).slice();
  k.matMul(a, b, { m: 7, n: 11, k: 9 }, out);
  const now = new Uint8Array(h.memory.buffer);
  for (let i = 0; i < now.length; i++) {
    const inScratch = i >= scratch[0] && i < scratch[1];
    const inOut = i >= out.byteOffset && i < out.byteOffset + out.byteLength;
    if (!inScratch && !inOut && now[i] !== snapshot[i]) assert.fail(`byte ${i} changed`);
  }
  k.dispose();
});

test("heap matmul: rejects arrays that are not views of its memory, and works again after the memory grows", () => {
  const h = host(2);
  const k = createHeapMatMulKernels(h.memory, h.heap, { variant: VARIANTS[0] });
  const a = h.put(new Float32Array([1, 2]));
  const b = h.put(new Float32Array([3, 4]));
  const out = h.put(new Float32Array(1));
  const notView = (e: unknown) => e instanceof ValueError && e.code === "INVALID_ARGUMENT";
  assert.throws(() => k.matMul(new Float32Array([1, 2]), b, { m: 1, n: 1, k: 2 }, out), notView);
  assert.throws(() => k.matMul(a, b, { m: 1, n: 1, k: 2, bias: [1] }, out), notView);
  assert.equal(k.matMul(a, b, { m: 1, n: 1, k: 2 }, out)[0], 11);
  const where = [a, b, out].map((x) => [x.byteOffset, x.length]);
  h.memory.grow(1); // detaches the old views
  assert.throws(() => k.matMul(a, b, { m: 1, n: 1, k: 2 }, out), notView);
  const [a2, b2, out2] = where.map(([at, n]) => new Float32Array(h.memory.buffer, at, n));
  assert.equal(k.matMul(a2, b2, { m: 1, n: 1, k: 2 }, out2)[0], 11);
  k.dispose();
  assert.throws(() => k.matMul(a2, b2, { m: 1, n: 1, k: 2 }, out2), notView);
});

test("heap matmul: a shared memory is refused with UNSUPPORTED (the single-thread builds import a plain one)", () => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 16, shared: true });
  assert.throws(
    () => createHeapMatMulKernels(memory, { malloc: () => 1024, free: () => {} }, { variant: "scalar" }),
    (e: unknown) => e instanceof ValueError && e.code === "UNSUPPORTED",
  );
});
