// One store-conformance suite, run against every reference store (tests/_store_kinds.ts): memory,
// SQLite, and PostgreSQL + pgvector (skipped, with the reason, without LIKENESS_TEST_PG_URL). The
// semantics it checks are documented on `ReferenceStore` (packages/server/store.ts) and the write
// rules in packages/server/store_rules.ts; a store that differs is a bug in that store.
import { test } from "node:test";
import assert from "node:assert/strict";
import { isLikenessError, ShapeError, ValueError } from "@likeness/core";
import { type ReferenceItem, STORE_LIMITS, type StoreChange, type StoreWrite } from "@likeness/server";
import { STORE_KINDS, type StoreHandle, type StoreKind, type TestStore } from "./_store_kinds.ts";

const DIM = 4;
const vec = (...xs: number[]) => Float32Array.from(xs);
const item = (id: string, label: string, v: Float32Array, payload?: unknown): ReferenceItem => ({
  id,
  label,
  vector: v,
  ...(payload === undefined ? {} : { payload }),
});
const sorted = (xs: ReferenceItem[]) => [...xs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

/** Items equal field by field; vectors bit for bit (so -0 and subnormals count). */
function assertSameItems(got: ReferenceItem[], want: ReferenceItem[], what: string): void {
  const g = sorted(got), w = sorted(want);
  assert.deepEqual(g.map((i) => i.id), w.map((i) => i.id), `${what}: ids`);
  for (let i = 0; i < w.length; i++) {
    assert.equal(g[i].label, w[i].label, `${what}: label of ${w[i].id}`);
    assert.ok(g[i].vector instanceof Float32Array, `${what}: vector of ${w[i].id} is a Float32Array`);
    assert.deepEqual(
      [...new Uint32Array(Float32Array.from(g[i].vector).buffer)],
      [...new Uint32Array(Float32Array.from(w[i].vector).buffer)],
      `${what}: vector bits of ${w[i].id}`,
    );
    assert.equal("payload" in g[i], "payload" in w[i], `${what}: payload present for ${w[i].id}`);
    assert.deepEqual(g[i].payload, w[i].payload, `${what}: payload of ${w[i].id}`);
  }
}

/** Run `f` on a fresh store of `kind`; always clean up. */
async function withStore(kind: StoreKind, f: (h: StoreHandle) => Promise<StoreHandle | void>): Promise<void> {
  const h = await kind.create(DIM);
  let last: StoreHandle | void = h;
  try {
    last = await f(h);
  } finally {
    if (last && last !== h) await last.cleanup();
    await h.cleanup();
  }
}

/** The write must be a rejected promise (never a synchronous throw) with this code and class. */
async function rejects(
  s: TestStore,
  w: StoreWrite,
  code: string,
  cls: abstract new (...a: never[]) => Error,
  what: string,
): Promise<void> {
  let p: Promise<unknown> | undefined;
  assert.doesNotThrow(() => {
    p = s.write(w);
  }, `${what}: a write never throws synchronously`);
  await assert.rejects(p!, (e: Error & { code?: string }) => {
    assert.equal(e.code, code, `${what}: code (${e.message})`);
    assert.ok(isLikenessError(e), `${what}: a typed likeness error`);
    assert.ok(e instanceof cls, `${what}: ${e.constructor.name} is a ${cls.name}`);
    return true;
  });
}

for (const kind of STORE_KINDS) {
  if (kind.skip) console.log(`store conformance: ${kind.name} skipped: ${kind.skip}`);
  const opts = kind.skip ? { skip: kind.skip } : {};
  const name = (s: string) => `store conformance [${kind.name}]: ${s}`;

  test(
    name("put, overwrite, delete, get and load; counts say what changed"),
    opts,
    () =>
      withStore(kind, async ({ store: s }) => {
        assert.deepEqual(await s.load(), []);
        assert.equal(await s.get("a"), undefined);
        const a = item("a", "cat", vec(1, 0, 0, 0), { n: 1 });
        const b = item("b", "dog", vec(0, 1, 0, 0));
        assert.deepEqual(await s.write({ put: [a, b] }), { added: 2, updated: 0, deleted: 0 });
        assertSameItems([(await s.get("a"))!], [a], "get a");
        assertSameItems(await s.load(), [a, b], "load");
        // A put replaces every field, the payload included (absent now, so gone).
        const a2 = item("a", "lion", vec(0, 0, 1, 0));
        assert.deepEqual(await s.write({ put: [a2] }), { added: 0, updated: 1, deleted: 0 });
        assertSameItems([(await s.get("a"))!], [a2], "overwritten a");
        // The same request again (a client's retry) leaves the same state.
        assert.deepEqual(await s.write({ put: [a2] }), { added: 0, updated: 1, deleted: 0 });
        // Unknown ids and repeated ids in a delete: no-ops, each live id counted once.
        assert.deepEqual(await s.write({ delete: ["a", "a", "never-was"] }), { added: 0, updated: 0, deleted: 1 });
        assert.equal(await s.get("a"), undefined);
        assertSameItems(await s.load(), [b], "after delete");
        assert.deepEqual(await s.write({ delete: ["a", "", "nul\u0000"] }), { added: 0, updated: 0, deleted: 0 });
        // A deleted id comes back as new; puts and deletes of other ids mix in one write.
        const c = item("c", "cat", vec(0, 0, 0, 1), null);
        assert.deepEqual(await s.write({ put: [a, c], delete: ["b"] }), { added: 2, updated: 0, deleted: 1 });
        assertSameItems(await s.load(), [a, c], "after the mixed write");
        // The store keeps its own copy: changing the caller's objects changes nothing stored.
        a.vector[0] = 42;
        (a.payload as { n: number }).n = 42;
        const got = (await s.get("a"))!;
        assert.equal(got.vector[0], 1);
        assert.deepEqual(got.payload, { n: 1 });
        got.vector[1] = 7;
        assert.equal((await s.get("a"))!.vector[1], 0);
      }),
  );

  test(
    name("ids, labels, payloads and float32 vectors round-trip exactly"),
    opts,
    () =>
      withStore(kind, async ({ store: s }) => {
        const f32max = 3.4028234663852886e38, subnormal = 1.401298464324817e-45;
        const ids = [
          "ü",
          "😀",
          "日本語のid",
          "e\u0301",
          "\u202eright-to-left",
          ".",
          "..",
          "a/b?c=%20&d#e",
          " spaced ",
          "'; drop table x; --",
          "x".repeat(STORE_LIMITS.maxIdLength),
          "😀".repeat(STORE_LIMITS.maxIdLength / 2),
        ];
        const big = "p".repeat(STORE_LIMITS.maxPayloadBytes - 2); // its JSON ("…") is exactly the limit
        const payloads: unknown[] = [
          "",
          { "": "" },
          [],
          {},
          null,
          0,
          false,
          { nested: { deep: [1, [2, [3, { s: "😀 ü 日本" }]]] }, tab: '\t\n"\\', esc: "\\u0000 is text here" },
          { f: 0.1, big: 1e300, neg: -2.5e-300, int: 9007199254740991 },
          big,
        ];
        const items = ids.map((id, i) =>
          item(
            id,
            i % 2 ? "標籤 ✓" : "l".repeat(STORE_LIMITS.maxIdLength),
            vec(i % 3 === 0 ? -0 : 0.1, f32max, -f32max, subnormal * (i + 1)),
            i < payloads.length ? payloads[i] : undefined,
          )
        );
        assert.deepEqual(await s.write({ put: items }), { added: ids.length, updated: 0, deleted: 0 });
        assertSameItems(await s.load(), items, "load");
        for (const it of items) assertSameItems([(await s.get(it.id))!], [it], `get ${JSON.stringify(it.id)}`);
        // An absent payload stays absent, null stays null, "" stays "".
        assert.ok(!("payload" in (await s.get(ids.at(-1)!))!));
        assert.equal((await s.get(ids[4]))!.payload, null);
        assert.equal((await s.get(ids[0]))!.payload, "");
        assert.equal(((await s.get(ids[9]))!.payload as string).length, big.length);
      }),
  );

  test(
    name("bad writes are refused with the same typed codes, as rejected promises"),
    opts,
    () =>
      withStore(kind, async ({ store: s }) => {
        const ok = vec(1, 2, 3, 4);
        const put = (...its: ReferenceItem[]) => ({ put: its });
        await rejects(s, put(item("x", "l", vec(1, 2, 3))), "SHAPE_MISMATCH", ShapeError, "3 of 4 dimensions");
        await rejects(s, put(item("x", "l", vec(1, 2, 3, 4, 5))), "SHAPE_MISMATCH", ShapeError, "5 of 4 dimensions");
        await rejects(
          s,
          put({ id: "x", label: "l", vector: [1, 2, 3, 4] as unknown as Float32Array }),
          "SHAPE_MISMATCH",
          ShapeError,
          "a number[] vector",
        );
        await rejects(s, put(item("x", "l", vec(1, NaN, 3, 4))), "NON_FINITE", ValueError, "NaN");
        await rejects(s, put(item("x", "l", vec(1, -Infinity, 3, 4))), "NON_FINITE", ValueError, "-Infinity");
        await rejects(
          s,
          put(item("x", "l", vec(1, 1e308, 3, 4))),
          "NON_FINITE",
          ValueError,
          "1e308 (float32 overflow)",
        );
        for (
          const [id, why] of [
            ["", "empty id"],
            ["a\u0000b", "NUL in id"],
            ["a\ud800", "lone surrogate in id"],
            ["x".repeat(STORE_LIMITS.maxIdLength + 1), "id too long"],
          ]
        ) await rejects(s, put(item(id, "l", ok)), "INVALID_ARGUMENT", ValueError, why);
        await rejects(s, put(item("x", "", ok)), "INVALID_ARGUMENT", ValueError, "empty label");
        await rejects(s, put(item("x", "\udc00", ok)), "INVALID_ARGUMENT", ValueError, "lone surrogate in label");
        await rejects(s, put(item("x", "l", ok, { s: "a\u0000" })), "INVALID_ARGUMENT", ValueError, "NUL in payload");
        await rejects(s, put(item("x", "l", ok, ["\ud83d"])), "INVALID_ARGUMENT", ValueError, "surrogate in payload");
        await rejects(s, put(item("x", "l", ok, { n: 1n })), "INVALID_ARGUMENT", ValueError, "a BigInt payload");
        await rejects(s, put(item("x", "l", ok, () => 1)), "INVALID_ARGUMENT", ValueError, "a function payload");
        await rejects(
          s,
          put(item("x", "l", ok, "p".repeat(STORE_LIMITS.maxPayloadBytes - 1))),
          "TOO_LARGE",
          Error,
          "a payload one byte over the limit",
        );
        await rejects(
          s,
          put(item("x", "l", ok), item("y", "l", ok), item("x", "m", ok)),
          "INVALID_ARGUMENT",
          ValueError,
          "an id twice in one write",
        );
        await rejects(
          s,
          { put: [item("x", "l", ok)], delete: ["x"] },
          "INVALID_ARGUMENT",
          ValueError,
          "an id put and deleted in one write",
        );
        assert.deepEqual(await s.load(), [], "nothing of any refused write was stored");
      }),
  );

  test(
    name("a batch that fails validation applies nothing, and takes no change number"),
    opts,
    () =>
      withStore(kind, async (h) => {
        const s = h.store;
        const keep = [item("a", "x", vec(1, 0, 0, 0), { v: 1 }), item("b", "x", vec(0, 1, 0, 0))];
        await s.write({ put: keep });
        const seq = h.seq();
        await rejects(
          s,
          {
            put: [item("new", "y", vec(1, 1, 1, 1)), item("a", "changed", vec(0, 0, 1, 0)), item("bad", "z", vec(1))],
            delete: ["b"],
          },
          "SHAPE_MISMATCH",
          ShapeError,
          "the last put is bad",
        );
        assertSameItems(await s.load(), keep, "unchanged after the refused batch");
        assert.equal(h.seq(), seq);
        // An empty write is not a change either.
        assert.deepEqual(await s.write({}), { added: 0, updated: 0, deleted: 0 });
        assert.deepEqual(await s.write({ put: [], delete: [] }), { added: 0, updated: 0, deleted: 0 });
        assert.equal(h.seq(), seq);
      }),
  );

  test(
    name("change numbers increase with every write, and survive close and reopen"),
    opts,
    () =>
      withStore(kind, async (h) => {
        const seqs = [h.seq()];
        for (let i = 0; i < 5; i++) {
          await h.store.write(i % 2 ? { delete: [`i${i - 1}`] } : { put: [item(`i${i}`, "x", vec(i, 1, 0, 0))] });
          seqs.push(h.seq());
        }
        for (let i = 1; i < seqs.length; i++) assert.ok(seqs[i] > seqs[i - 1], `seq ${seqs[i]} after ${seqs[i - 1]}`);
        if (!kind.durable) return;
        const live = await h.store.load();
        await h.store.close();
        const h2 = await h.reopen();
        assertSameItems(await h2.store.load(), live, "after reopen");
        assert.equal(h2.seq(), seqs.at(-1), "the change number after reopen is the last one committed");
        await h2.store.write({ put: [item("after", "x", vec(1, 1, 1, 1))] });
        assert.ok(h2.seq() > seqs.at(-1)!);
        return h2;
      }),
  );

  test(
    name("close and reopen keeps every write"),
    kind.skip ? opts : kind.durable ? {} : { skip: `${kind.name} keeps nothing across close, by design` },
    () =>
      withStore(kind, async (h) => {
        const items = Array.from({ length: 300 }, (_, i) => item(`r${i}`, `c${i % 7}`, vec(i, -i, i / 3, 1), { i }));
        await h.store.write({ put: items.slice(0, 200) });
        await h.store.write({ put: items.slice(200), delete: ["r0", "r1"] });
        await h.store.write({ put: [item("r2", "moved", vec(2, 2, 2, 2))] });
        const want = [item("r2", "moved", vec(2, 2, 2, 2)), ...items.slice(3)];
        await h.store.close();
        const h2 = await h.reopen();
        assertSameItems(await h2.store.load(), want, "after reopen");
        return h2;
      }),
  );

  test(
    name("a closed store refuses writes and reads with UNAVAILABLE; a second close is a no-op"),
    opts,
    () =>
      withStore(kind, async ({ store: s }) => {
        await s.write({ put: [item("a", "x", vec(1, 0, 0, 0))] });
        await s.close();
        await s.close();
        const calls = [["write", () => s.write({ delete: ["a"] })], ["load", () => s.load()], [
          "get",
          () => s.get("a"),
        ]];
        for (const [what, call] of calls as [string, () => Promise<unknown>][]) {
          let p: Promise<unknown> | undefined;
          assert.doesNotThrow(() => (p = call()), `${what} after close does not throw synchronously`);
          await assert.rejects(p!, (e: Error & { code?: string }) => {
            assert.equal(e.code, "UNAVAILABLE", `${what} after close: ${e.message}`);
            return true;
          });
        }
      }),
  );

  test(name("concurrent writes are serialised in call order"), opts, () =>
    withStore(kind, async (h) => {
      const s = h.store;
      const n = 30;
      const done: number[] = [];
      const seq0 = h.seq();
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) => {
          const w: StoreWrite = i % 5 === 4
            ? { delete: ["x"] }
            : { put: [item("x", `v${i}`, vec(i, 0, 0, 1)), item(`w${i}`, "w", vec(0, i, 0, 1))] };
          return s.write(w).then((r) => {
            done.push(i);
            return r;
          });
        }),
      );
      assert.deepEqual(done, Array.from({ length: n }, (_, i) => i), "resolved in call order");
      assert.ok(h.seq() - seq0 >= BigInt(n), `${n} writes, ${n} change numbers at least`);
      // Counts as if applied one after another: x is new after each delete, replaced otherwise.
      for (let i = 0; i < n; i++) {
        const want = i % 5 === 4
          ? { added: 0, updated: 0, deleted: 1 }
          : i % 5 === 0
          ? { added: 2, updated: 0, deleted: 0 }
          : { added: 1, updated: 1, deleted: 0 };
        assert.deepEqual(results[i], want, `write ${i}`);
      }
      const last = n - 1; // a delete (29 % 5 === 4): x is gone, every w is there
      assert.equal(last % 5, 4);
      assert.equal(await s.get("x"), undefined);
      const live = await s.load();
      assert.deepEqual(
        live.map((i) => i.id).sort(),
        Array.from({ length: n }, (_, i) => i).filter((i) => i % 5 !== 4).map((i) => `w${i}`).sort(),
      );
    }));

  test(
    name("two writers on the same data: commits serialised, each watcher converges on the stored state"),
    kind.skip
      ? opts
      : kind.sharedWriters
      ? {}
      : { skip: `${kind.name} has exactly one writer per data set, by design` },
    () =>
      withStore(kind, async (h1) => {
        const h2 = await h1.reopen();
        try {
          // Each instance keeps a copy the way a server's index does: its load, the others' commits
          // from watch, and its own writes applied after they resolve.
          const views = [h1, h2].map(() => new Map<string, ReferenceItem>());
          const apply = (view: Map<string, ReferenceItem>) => (w: StoreChange) => {
            if (w.reset) view.clear();
            for (const id of w.delete ?? []) view.delete(id);
            for (const it of w.put ?? []) view.set(it.id, it);
          };
          const stops: (() => void)[] = [];
          for (const [i, h] of [h1, h2].entries()) {
            for (const it of await h.store.load()) views[i].set(it.id, it);
            stops.push(h.store.watch!(apply(views[i])));
          }
          const writes = [h1, h2].map((h, i) =>
            (async () => {
              for (let j = 0; j < 15; j++) {
                const w: StoreWrite = j % 4 === 3
                  ? { delete: ["x"] }
                  : { put: [item("x", `by${i}-${j}`, vec(i, j, 0, 1)), item(`w${i}-${j}`, "w", vec(j, i, 1, 0))] };
                await h.store.write(w);
                apply(views[i])(w);
              }
            })()
          );
          await Promise.all(writes);
          const stored = new Map((await h1.store.load()).map((it) => [it.id, it]));
          // 12 puts of new w ids per instance (3 of the 15 writes are deletes of x), and x if a put was last.
          assert.equal(stored.size, 24 + (stored.has("x") ? 1 : 0));
          for (const [i, view] of views.entries()) {
            const t0 = Date.now();
            while (Date.now() - t0 < 5000) {
              const same = view.size === stored.size &&
                [...stored.values()].every((it) => view.get(it.id)?.label === it.label);
              if (same) break;
              await new Promise((r) => setTimeout(r, 20));
            }
            assertSameItems([...view.values()], [...stored.values()], `instance ${i + 1}'s view`);
          }
          for (const stop of stops) stop();
        } finally {
          await h2.cleanup();
        }
      }),
  );
}
