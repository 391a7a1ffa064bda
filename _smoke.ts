import { createDenseKernels } from "@likeness/kernels";
import { pairwiseRef, topkRef } from "@likeness/kernels/reference";
import { compareClose } from "@likeness/core/testing";
import { createRng } from "@likeness/core";
const rng = createRng(1);
function rand(rows: number, cols: number) { const d = new Float32Array(rows*cols); for (let i=0;i<d.length;i++) d[i]=rng.next()*2-1; return {data:d, rows, cols}; }
for (const variant of ["scalar","simd","relaxed"] as const) for (const threads of [1,2]) {
  const k = createDenseKernels({variant, threads, minParallelWork: 0});
  for (const D of [1,3,4,5,17,64,65,384]) {
    const q = rand(9, D), r = rand(23, D);
    for (const metric of ["dot","cosine","l2","sqeuclidean","l1"] as const) {
      const a = await k.pairwise(q, r, metric); const e = pairwiseRef(q, r, metric);
      const rep = compareClose(a.data, e.data, {rtol:1e-5, atol:1e-5});
      if (!rep.ok) console.log(variant, threads, D, metric, rep);
      const t = await k.topk(q, r, {k: 5, metric}); const te = topkRef(q, r, {k:5, metric});
      const rep2 = compareClose(t.values, te.values, {rtol:1e-5, atol:1e-5});
      if (!rep2.ok || t.indices.join() !== te.indices.join()) console.log("topk", variant, threads, D, metric, rep2, t.indices.join(), te.indices.join());
    }
  }
  console.log(variant, threads, k.info);
  k.dispose();
}
