import { test } from "node:test";
import assert from "node:assert/strict";
import { createRng } from "@likeness/core";
import { HnswGraph, type HnswGraphArrays } from "./hnsw.ts";
import { hnswDistanceRowsRef, HnswRef } from "./reference/hnsw.ts";

const DIM = 13; // not a multiple of 4: the SIMD build runs its scalar tail
const M = 6;

function data(n: number, seed: number): { x: Float32Array; levels: Int32Array } {
  const rng = createRng(seed);
  const x = new Float32Array(n * DIM).map(() => rng.next() * 2 - 1);
  const levels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let l = 0;
    let p = 1 / M;
    const u = rng.next();
    while (u < p) {
      l++;
      p /= M;
    }
    levels[i] = l;
  }
  return { x, levels };
}

function listsOf(a: HnswGraphArrays, node: number, layer: number): number[] {
  if (layer === 0) {
    const s = 1 + 2 * M;
    return Array.from(a.links0.subarray(node * s + 1, node * s + 1 + a.links0[node * s]));
  }
  const o = a.upperOff[node] + (layer - 1) * (1 + M);
  return Array.from(a.upper.subarray(o + 1, o + 1 + a.upper[o]));
}

test("hnsw kernel: the scalar build builds exactly the reference graph (every kind, grown twice)", async () => {
  const n = 500;
  const { x, levels } = data(n, 11);
  for (const kind of [0, 1, 2] as const) {
    const g = await HnswGraph.create({ dim: DIM, kind, M, variant: "scalar", capacity: 16 });
    g.add(x.subarray(0, 100 * DIM), levels.subarray(0, 100), 24);
    g.add(x.subarray(100 * DIM), levels.subarray(100), 24);
    const ref = new HnswRef(DIM, kind, M);
    ref.add(x, levels, 24);
    const a = g.arrays();
    assert.equal(a.entry, ref.entry);
    assert.equal(a.maxLevel, ref.maxLevel);
    for (let i = 0; i < n; i++) {
      for (let l = 0; l <= levels[i]; l++) {
        assert.deepEqual(listsOf(a, i, l), ref.lists[i][l], `kind ${kind} node ${i} layer ${l}`);
      }
    }
    const q = x.subarray(0, 3 * DIM).map((v) => v * 0.9);
    const got = g.search(q, 3, 5, 16, null);
    for (let i = 0; i < 3; i++) {
      const want = ref.search(q.subarray(i * DIM, (i + 1) * DIM), 5, 16);
      assert.deepEqual(Array.from(got.nodes.subarray(i * 5, i * 5 + 5)), want.map((p) => p.n));
      assert.deepEqual(Array.from(got.dists.subarray(i * 5, i * 5 + 5)), want.map((p) => p.d));
    }
  }
});

test("hnsw kernel: SIMD distances match the float32 reference within rounding, for lengths hitting every tail", async () => {
  for (const dim of [1, 3, 4, 5, 15, 16, 17, 63, 64, 65, 300]) {
    const rng = createRng(dim);
    const x = new Float32Array(4 * dim).map(() => rng.next() * 2 - 1);
    for (const kind of [0, 1, 2] as const) {
      const g = await HnswGraph.create({ dim, kind, M: 4, variant: "simd" });
      g.add(x, new Int32Array(4), 8);
      const s = await HnswGraph.create({ dim, kind, M: 4, variant: "scalar" });
      s.add(x, new Int32Array(4), 8);
      for (let a = 0; a < 4; a++) {
        for (let b = 0; b < 4; b++) {
          const want = hnswDistanceRowsRef(x, a * dim, x, b * dim, dim, kind);
          assert.equal(s.distance(a, b), want, `scalar dim ${dim} kind ${kind}`);
          const got = g.distance(a, b);
          assert.ok(
            Math.abs(got - want) <= 1e-5 * (1 + Math.abs(want)),
            `simd dim ${dim} kind ${kind}: ${got} vs ${want}`,
          );
          if (a === b && kind !== 0) assert.equal(got, 0);
        }
      }
    }
  }
});

test("hnsw kernel: tombstones and the eligibility filter are walked through but never returned", async () => {
  const { x, levels } = data(300, 5);
  const g = await HnswGraph.create({ dim: DIM, kind: 1, M, variant: "simd" });
  g.add(x, levels, 32);
  for (let i = 0; i < 300; i += 2) g.markDeleted(i);
  const elig = new Uint8Array(300).map((_, i) => (i % 3 === 0 ? 1 : 0));
  const r = g.search(x.subarray(0, 4 * DIM), 4, 10, 300, elig);
  for (const node of r.nodes) assert.ok(node < 0 || (node % 2 === 1 && node % 3 === 0), `node ${node}`);
  // 50 nodes are odd multiples of 3; with ef ≥ size the walk finds 10 of them for every query.
  assert.ok(r.nodes.every((v) => v >= 0));
  const ex = g.exact(x.subarray(0, 4 * DIM), 4, 10, Int32Array.from({ length: 50 }, (_, i) => 6 * i + 3));
  assert.deepEqual(r.nodes, ex.nodes);
  assert.deepEqual(r.dists, ex.dists);
});

test("hnsw kernel: repair leaves every node reachable on layer 0 from the entry point", async () => {
  // Inner products prune hardest: unreachable nodes appear at this size without the repair.
  const { x, levels } = data(600, 9);
  const g = await HnswGraph.create({ dim: DIM, kind: 0, M: 4, variant: "simd" });
  g.add(x, levels, 16);
  const before = g.reachable().reduce((s, v) => s + v, 0);
  assert.ok(before < 600, `expected pruned nodes before the repair, all ${before} reachable`);
  assert.ok(g.repair(16) > 0);
  assert.equal(g.reachable().reduce((s, v) => s + v, 0), 600);
});

test("hnsw kernel: int8 code distances are exact integers, equal in both builds, for lengths hitting every tail", async () => {
  for (const dim of [1, 3, 4, 5, 15, 16, 17, 63, 64, 65, 300]) {
    const rng = createRng(100 + dim);
    const x = new Float32Array(5 * dim).map(() => rng.next() * 6 - 2);
    for (const kind of [0, 1, 2] as const) {
      const graphs = [];
      for (const variant of ["scalar", "simd"] as const) {
        const g = await HnswGraph.create({ dim, kind, M: 4, variant, codes: true });
        g.add(x, new Int32Array(5), 8);
        graphs.push(g);
      }
      const codes = graphs[0].codeRows();
      const cb = graphs[0].codeBytes;
      assert.equal(cb % 16, 0);
      assert.deepEqual(graphs[1].codeRows(), codes, "both builds encode alike");
      for (let i = 0; i < codes.length; i++) {
        assert.ok(codes[i] >= -127 && codes[i] <= 127);
        if (i % cb >= dim) assert.equal(codes[i], 0, "padding is zero");
      }
      // The range is used: the extreme coordinate of the widest dimension codes to ±127.
      assert.ok(codes.some((c) => Math.abs(c) === 127), `kind ${kind} dim ${dim}`);
      for (let a = 0; a < 5; a++) {
        for (let b = 0; b < 5; b++) {
          let s = 0;
          for (let k = 0; k < dim; k++) {
            const u = codes[a * cb + k], v = codes[b * cb + k];
            s += kind === 0 ? -u * v : kind === 1 ? (u - v) ** 2 : Math.abs(u - v);
          }
          for (const g of graphs) assert.equal(g.codeDistance(a, b), s + 0, `${g.variant} kind ${kind} dim ${dim}`);
        }
      }
    }
  }
});
