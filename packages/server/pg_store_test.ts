// PgVectorStore against a real PostgreSQL + pgvector (LIKENESS_TEST_PG_URL; skipped without it).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createBackend } from "@likeness/backend";
import {
  createApp,
  PG_MIGRATIONS,
  PgVectorStore,
  type ReferenceItem,
  type StoreChange,
  type StoreWrite,
  vectorOnlyModel,
} from "@likeness/server";
import { parseRetention } from "./pg_flags.ts";
import { admin, dropTable, needsPg, PG_URL, uniqueTable, until } from "./_pg_test_util.ts";

const url = PG_URL ?? "";
const vec = (...xs: number[]) => Float32Array.from(xs);
const item = (id: string, label: string, v: Float32Array, payload?: unknown): ReferenceItem => ({
  id,
  label,
  vector: v,
  ...(payload === undefined ? {} : { payload }),
});
const byId = (a: ReferenceItem, b: ReferenceItem) => (a.id < b.id ? -1 : 1);

test("pg store: migrations are versioned, recorded once, and a dimension clash is refused", needsPg, async () => {
  const table = uniqueTable();
  const a = await PgVectorStore.connect({ url, dim: 3, table });
  const b = await PgVectorStore.connect({ url, dim: 3, table }); // a second replica: nothing re-applied
  try {
    const rows = await admin(
      url,
      (sql) => sql`select version, name from likeness_migrations where store_table = ${table} order by version`,
    );
    assert.deepEqual(rows.map((r) => Number(r.version)), PG_MIGRATIONS.map((m) => m.version));
    await assert.rejects(PgVectorStore.connect({ url, dim: 4, table }), (e: Error & { code?: string }) => {
      assert.equal(e.code, "CONFLICT");
      assert.match(e.message, /holds 3-dimensional vectors but this server needs 4/);
      return true;
    });
    await assert.rejects(PgVectorStore.connect({ url, dim: 3, table: "Bad-Name" }), /lowercase letters/);
  } finally {
    await a.close();
    await b.close();
    await dropTable(url, table);
  }
});

test(
  "pg store: float32 vectors and payloads round-trip exactly; upserts are idempotent; deletes stick",
  needsPg,
  async () => {
    const table = uniqueTable();
    const s = await PgVectorStore.connect({ url, dim: 3, table });
    try {
      assert.deepEqual(await s.load(), []);
      const odd = vec(0.1, -3.4028234663852886e38, 1.401298464324817e-45); // float32 max and smallest subnormal
      const put = [
        item("a", "cat", odd, { n: 1, s: "ü" }),
        item("b", "dog", vec(1, 2, 3)),
        item("c", "cat", vec(0, 0, 1), null),
      ];
      assert.deepEqual(await s.write({ put }), { added: 3, updated: 0, deleted: 0 });
      // The same request again (a client retry): same state.
      assert.deepEqual(await s.write({ put }), { added: 0, updated: 3, deleted: 0 });
      const loaded = (await s.load()).sort(byId);
      assert.deepEqual(loaded, put);
      assert.ok(!("payload" in loaded[1]), "an absent payload stays absent (not null)");
      assert.equal(loaded[2].payload, null, "a null payload stays null");
      const [before] = await admin(
        url,
        (sql) => sql.unsafe(`select created_at, change_id from ${table} where id = 'a'`),
      );
      const counts = await s.write({ put: [item("a", "lion", vec(3, 2, 1))], delete: ["b", "never-existed"] });
      assert.deepEqual(counts, { added: 0, updated: 1, deleted: 1 });
      const [after] = await admin(
        url,
        (sql) => sql.unsafe(`select created_at, change_id from ${table} where id = 'a'`),
      );
      assert.deepEqual(after.created_at, before.created_at, "an update keeps created_at");
      assert.ok(BigInt(after.change_id) > BigInt(before.change_id));
      assert.deepEqual((await s.load()).sort(byId).map((r) => [r.id, r.label]), [["a", "lion"], ["c", "cat"]]);
      assert.equal(await s.count(), 2);
      assert.equal(await s.get("b"), undefined);
      assert.deepEqual(await s.get("a"), item("a", "lion", vec(3, 2, 1)));
      // Rejected input leaves the store unchanged.
      await assert.rejects(s.write({ put: [item("x", "l", vec(1, 2))] }), { code: "SHAPE_MISMATCH" });
      await assert.rejects(s.write({ put: [item("x", "l", vec(1, NaN, 2))] }), { code: "NON_FINITE" });
      await assert.rejects(s.write({ put: [item("x\u0000", "l", vec(1, 1, 2))] }), /NUL/);
      await assert.rejects(s.write({ put: [item("x", "l", vec(1, 1, 2), { s: "a\u0000" })] }), /NUL/);
      assert.equal(await s.count(), 2);
    } finally {
      await s.close();
      await dropTable(url, table);
    }
  },
);

test("pg store: one request is one transaction (a failure inside Postgres commits nothing)", needsPg, async () => {
  const table = uniqueTable();
  const s = await PgVectorStore.connect({ url, dim: 2, table });
  try {
    await s.write({ put: [item("boom", "x", vec(1, 0))] });
    // Fault injection inside Postgres: deleting "boom" raises in a trigger, after the upsert ran.
    await admin(url, (sql) =>
      sql.unsafe(`create function ${table}_boom() returns trigger language plpgsql as $$
        begin if new.id = 'boom' and new.deleted_at is not null then raise exception 'injected fault'; end if;
        return new; end $$;
        create trigger ${table}_boom before update on ${table} for each row execute function ${table}_boom()`));
    await assert.rejects(s.write({ put: [item("new", "y", vec(0, 1))], delete: ["boom"] }), /injected fault/);
    assert.deepEqual((await s.load()).map((r) => r.id), ["boom"], "the upsert in the failed request was rolled back");
    assert.equal(s.health().status, "ok", "a rejected statement is not an outage");
  } finally {
    await s.close();
    await admin(url, (sql) => sql.unsafe(`drop function if exists ${table}_boom() cascade`));
    await dropTable(url, table);
  }
});

test(
  "pg store: a watcher sees other writers' commits in order, never its own, and catches up what it missed",
  needsPg,
  async () => {
    const table = uniqueTable();
    const a = await PgVectorStore.connect({ url, dim: 2, table, pollMs: 200 });
    const b = await PgVectorStore.connect({ url, dim: 2, table, pollMs: 200 });
    try {
      await a.load();
      await b.load();
      // Written while b is not watching yet: delivered by the catch-up query when it starts.
      await a.write({ put: [item("p", "x", vec(1, 0)), item("q", "x", vec(0, 1))] });
      await a.write({ delete: ["p"] });
      const seen: StoreWrite[] = [];
      const stop = b.watch((w) => seen.push(w));
      await until(() => seen.length === 2, 5000, "catch-up of two commits");
      assert.deepEqual(seen[0].put?.map((i) => i.id), ["q"], "p was deleted later, so its put shows as the delete");
      assert.deepEqual(seen[1], { delete: ["p"] });
      // Live: a's next commit reaches b within a second through NOTIFY.
      const t0 = Date.now();
      await a.write({ put: [item("r", "z", vec(0.5, 0.5), { k: 1 })] });
      await until(() => seen.length === 3, 1000, "a live change");
      assert.ok(Date.now() - t0 < 1000);
      assert.deepEqual(seen[2], { put: [item("r", "z", vec(0.5, 0.5), { k: 1 })] });
      // b's own write is never delivered back to b.
      await b.write({ put: [item("own", "o", vec(1, 1))] });
      await a.write({ put: [item("s", "z", vec(1, 0))] });
      await until(() => seen.length === 4, 1000, "a change after an own write");
      assert.deepEqual(seen[3].put?.map((i) => i.id), ["s"]);
      // A lost LISTEN connection (terminated by the server) loses nothing.
      const killed = await admin(
        url,
        (sql) =>
          sql`select pg_terminate_backend(pid) from pg_stat_activity where query ilike ${"listen%" + table + "%"}`,
      );
      assert.ok(killed.length >= 1, "found b's LISTEN connection");
      await a.write({ put: [item("t", "z", vec(0, 1))] });
      await until(
        () => seen.length === 5,
        3000,
        "a change after the LISTEN connection was killed",
      );
      assert.deepEqual(seen[4].put?.map((i) => i.id), ["t"]);
      assert.ok(b.lastChangeId >= a.lastChangeId);
      stop();
    } finally {
      await a.close();
      await b.close();
      await dropTable(url, table);
    }
  },
);

test(
  "pg store: load() while watching keeps the watch position (a commit whose notification is late is still delivered)",
  needsPg,
  async () => {
    // The flake of "two writers ... each watcher converges": the test read the stored state with
    // load() on a watching instance while the other writer's last commit was still on its way
    // to that watcher; load() moved the watch position past it, so it was never delivered.
    // Here the late notification is made certain: a commit made with no NOTIFY at all (as a
    // writer whose notification is lost), then load() at once, before the next poll.
    const table = uniqueTable();
    const a = await PgVectorStore.connect({ url, dim: 2, table, pollMs: 1000 });
    try {
      await a.load();
      const seen: StoreChange[] = [];
      const stop = a.watch((w) => seen.push(w));
      await until(() => a.listening, 5000, "LISTEN");
      for (let i = 0; i < 3; i++) {
        await admin(url, (sql) =>
          sql.begin(async (tx) => {
            await tx.unsafe(`select pg_advisory_xact_lock(hashtext($1))`, [`likeness:${table}`]);
            await tx.unsafe(
              `insert into ${table} (id, label, embedding, change_id)
               values ($1, 'late', '[1,0]', nextval('${table}_change_seq'))`,
              [`late${i}`],
            );
          }));
        const live = await a.load(); // the commit is in this snapshot ...
        assert.ok(live.some((it) => it.id === `late${i}`));
        // ... and still reaches the watcher (by the next catch-up poll), exactly once.
        await until(() => seen.some((w) => w.put?.some((it) => it.id === `late${i}`)), 5000, `late${i} delivered`);
      }
      assert.deepEqual(seen.flatMap((w) => w.put?.map((it) => it.id) ?? []), ["late0", "late1", "late2"]);
      stop();
    } finally {
      await a.close();
      await dropTable(url, table);
    }
  },
);

test("pg store: search in Postgres (HNSW, cosine) matches brute force, filters by label in SQL", needsPg, async () => {
  const table = uniqueTable();
  const s = await PgVectorStore.connect({ url, dim: 8, table, searchMode: "postgres", efSearch: 100 });
  try {
    let seed = 7;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) - 0.5;
    const items = Array.from(
      { length: 300 },
      (_, i) =>
        item(`i${i}`, i % 3 === 0 ? "a" : "b", Float32Array.from({ length: 8 }, rnd), i % 50 === 0 ? { i } : undefined),
    );
    await s.write({ put: items.slice(0, 150) });
    await s.ensureHnswIndex();
    await s.write({ put: items.slice(150) }); // rows after the build go into the index too
    await s.write({ delete: ["i1"] });
    const live = items.filter((it) => it.id !== "i1");
    const cos = (x: Float32Array, y: Float32Array) => {
      let d = 0, nx = 0, ny = 0;
      for (let i = 0; i < x.length; i++) (d += x[i] * y[i]), (nx += x[i] * x[i]), (ny += y[i] * y[i]);
      return d / Math.sqrt(nx * ny);
    };
    const plan = await admin(url, (sql) =>
      sql.begin(async (t) => {
        await t`set local enable_seqscan = off`; // 300 rows: the planner would rather scan them
        return await t.unsafe(
          `explain select id from ${table} order by embedding <=> '[${items[0].vector.join(",")}]' limit 5`,
        );
      }));
    assert.match(plan.map((r) => r["QUERY PLAN"]).join("\n"), new RegExp(`${table}_hnsw`), "the HNSW index is used");
    for (const label of [undefined, "a"]) {
      for (let qi = 0; qi < 5; qi++) {
        const q = items[qi * 7].vector;
        const want = live.filter((it) => label === undefined || it.label === label)
          .map((it) => ({ id: it.id, score: cos(q, it.vector) })).sort((x, y) => y.score - x.score).slice(0, 5);
        const got = await s.search(q, 5, label === undefined ? {} : { label });
        assert.deepEqual(got.map((h) => h.id), want.map((h) => h.id), `query ${qi} label ${label}`);
        for (let j = 0; j < 5; j++) assert.ok(Math.abs(got[j].score - want[j].score) < 1e-5);
        for (const h of got) {
          const src = items.find((it) => it.id === h.id)!;
          assert.equal(h.label, src.label);
          assert.deepEqual(h.payload, src.payload);
          assert.deepEqual(
            Object.keys(h).sort(),
            src.payload === undefined ? ["id", "label", "score"] : ["id", "label", "payload", "score"],
          );
        }
      }
    }
    await assert.rejects(s.search(vec(1, 2), 5), { code: "SHAPE_MISMATCH" });
    await assert.rejects(s.search(items[0].vector, 5, { efSearch: 0 }), { code: "INVALID_ARGUMENT" });
    assert.match(s.describe(), /search: postgres/);
  } finally {
    await s.close();
    await dropTable(url, table);
  }
});

test(
  "pg store: connections refused (role connection limit reached) answer UNAVAILABLE, then recover",
  needsPg,
  async () => {
    const table = uniqueTable();
    const role = uniqueTable("lk_role");
    await admin(
      url,
      (sql) =>
        sql.unsafe(`create role ${role} login connection limit 2; grant all on schema public to ${role};
      grant all on likeness_migrations to ${role}`),
    );
    const roleUrl = url.replace(/\/\/[^@/]*@/, `//${role}@`);
    const s = await PgVectorStore.connect({ url: roleUrl, dim: 2, table, maxConnections: 2 });
    const postgres = (await import("postgres")).default as unknown as typeof import("postgres");
    const hogs = postgres(roleUrl, { max: 2, onnotice: () => {} });
    try {
      await s.write({ put: [item("a", "x", vec(1, 0))] });
      // Drop the store's pooled connections, then take every slot the role has.
      await admin(url, (sql) => sql`select pg_terminate_backend(pid) from pg_stat_activity where usename = ${role}`);
      const held = hogs.reserve();
      const held2 = hogs.reserve();
      const [h1, h2] = await Promise.all([held, held2]);
      await assert.rejects(s.write({ put: [item("b", "x", vec(0, 1))] }), (e: Error & { code?: string }) => {
        assert.equal(e.code, "UNAVAILABLE");
        assert.match(e.message, /too many connections|retry/);
        return true;
      });
      assert.equal(s.health().status, "degraded");
      assert.match(s.health().detail ?? "", /last write failed/);
      h1.release();
      h2.release();
      await hogs.end({ timeout: 1 });
      await s.write({ put: [item("b", "x", vec(0, 1))] });
      assert.equal(s.health().status, "ok");
      assert.deepEqual((await s.load()).map((r) => r.id).sort(), ["a", "b"]);
    } finally {
      await hogs.end({ timeout: 1 }).catch(() => {});
      await s.close();
      await dropTable(url, table);
      await admin(
        url,
        (sql) =>
          sql.unsafe(
            `revoke all on schema public from ${role}; revoke all on likeness_migrations from ${role}; drop role ${role}`,
          ),
      );
    }
  },
);

/** Apply delivered changes to a map the way the server's index does (a reset drops the rest). */
function mirror(into: Map<string, ReferenceItem>) {
  return (w: StoreChange) => {
    if (w.reset) into.clear();
    for (const id of w.delete ?? []) into.delete(id);
    for (const it of w.put ?? []) into.set(it.id, it);
  };
}

test(
  "pg store: tombstones past the retention are purged; a replica that had not seen them reloads in full and says so",
  needsPg,
  async () => {
    const table = uniqueTable();
    const open = () => PgVectorStore.connect({ url, dim: 2, table, pollMs: 100 });
    const a = await open(), behind = await open(), current = await open();
    try {
      await a.write({ put: ["p", "q", "r", "s"].map((id, i) => item(id, "x", vec(i, 1))) });
      const seenBehind = new Map((await behind.load()).map((it) => [it.id, it]));
      assert.equal(seenBehind.size, 4);
      await a.write({ delete: ["p"] });
      await a.write({ delete: ["q"] });
      await a.write({ delete: ["s"] });
      await a.write({ put: [item("s", "back", vec(9, 9))] }); // a tombstone revived before the purge
      assert.equal((await current.load()).length, 2, "current has seen every delete");
      const rows = () =>
        admin(url, (sql) => sql.unsafe(`select id, deleted_at is not null as dead from ${table} order by id`));
      assert.deepEqual((await rows()).map((r) => [r.id, r.dead]), [["p", true], ["q", true], ["r", false], [
        "s",
        false,
      ]]);

      // Younger than the retention: kept.
      assert.deepEqual(await a.purgeTombstones({ olderThanMs: 3_600_000 }), { purged: 0, horizon: 0n });
      const deleteQ = BigInt(
        (await admin(url, (sql) => sql.unsafe(`select change_id::text as c from ${table} where id = 'q'`)))[0].c,
      );
      const { purged, horizon } = await a.purgeTombstones({ olderThanMs: 0, batch: 1 });
      assert.equal(purged, 2);
      assert.equal(horizon, deleteQ, "the horizon is the newest purged change");
      assert.deepEqual(
        (await rows()).map((r) => r.id),
        ["r", "s"],
        "tombstones gone, live rows (and the revived one) kept",
      );
      assert.equal(a.counters.purged, 2);

      // `behind` loaded before the deletes: the catch-up cannot see the purged ones, so it reloads.
      const seen: StoreChange[] = [];
      const apply = mirror(seenBehind);
      const stopBehind = behind.watch((w) => (seen.push(w), apply(w)));
      await until(() => seen.length >= 1, 5000, "the reload");
      assert.equal(seen[0].reset, true);
      assert.deepEqual(
        [...seenBehind.keys()].sort(),
        ["r", "s"],
        "p and q are gone although their tombstones were purged",
      );
      assert.equal(seenBehind.get("s")?.label, "back");
      assert.equal(behind.counters.reloads, 1);
      assert.ok(behind.lastChangeId >= horizon);
      const h = behind.health();
      assert.equal(h.status, "ok");
      assert.match(h.detail ?? "", /reloaded all 2 live references .*older than the tombstone purge horizon/);

      // `current` had seen every delete: no reload, only the live changes that follow.
      const seenCurrent: StoreChange[] = [];
      const stopCurrent = current.watch((w) => seenCurrent.push(w));
      await a.write({ put: [item("t", "x", vec(1, 0))] });
      await until(() => seenCurrent.length >= 1 && seen.length >= 2, 5000, "the live change on both");
      assert.deepEqual(seenCurrent.map((w) => [w.reset, w.put?.map((i) => i.id)]), [[undefined, ["t"]]]);
      assert.deepEqual(seen.slice(1).map((w) => [w.reset, w.put?.map((i) => i.id)]), [[undefined, ["t"]]]);
      assert.equal(current.counters.reloads, 0);
      assert.deepEqual({ ...current.health(), counters: undefined }, { status: "ok", counters: undefined });
      assert.equal(current.health().counters?.reloads, 0);
      // A store loaded after the purge starts at or above the horizon: nothing to reload.
      const fresh = await open();
      try {
        assert.equal((await fresh.load()).length, 3);
        assert.ok(fresh.lastChangeId >= horizon);
      } finally {
        await fresh.close();
      }
      stopBehind();
      stopCurrent();
    } finally {
      await a.close();
      await behind.close();
      await current.close();
      await dropTable(url, table);
    }
  },
);

test(
  "pg store: a server replica that missed purged deletes drops them from its index and /v1/health says why",
  needsPg,
  async () => {
    const table = uniqueTable();
    const writer = await PgVectorStore.connect({ url, dim: 2, table });
    const store = await PgVectorStore.connect({ url, dim: 2, table, pollMs: 100 });
    const { backend } = await createBackend({ prefer: "js", tf: false });
    await writer.write({ put: [item("keep", "x", vec(1, 0)), item("gone", "x", vec(0, 1))] });
    const { app, index, close } = await createApp({ model: vectorOnlyModel(2), store, backend });
    try {
      assert.equal(index.size, 2);
      // A delete and the purge of its tombstone in one transaction: what a replica that was cut off
      // for longer than the retention finds when it comes back (it never sees the tombstone).
      await admin(url, (sql) =>
        sql.begin(async (t) => {
          await t.unsafe(`select pg_advisory_xact_lock(hashtext($1))`, [`likeness:${table}`]);
          await t.unsafe(`update ${table} set deleted_at = now(), embedding = null, payload = null,
            change_id = nextval('${table}_change_seq') where id = 'gone'`);
          await t.unsafe(`with g as (delete from ${table} where deleted_at is not null returning change_id)
            update ${table}_horizon set purged_through = (select max(change_id) from g), purged_at = now()`);
        }));
      // The replica's next catch-up sees the horizon above its last change and reloads.
      await until(() => index.get("gone") === undefined, 5000, "the purged delete to reach the index");
      assert.ok(index.get("keep"));
      assert.equal(index.size, 1);
      const health = await (await app.request("/v1/health")).json();
      assert.equal(health.status, "ok");
      assert.match(health.detail, /reloaded all 1 live references/);
      assert.equal((await app.request("/v1/references/gone")).status, 404);
    } finally {
      await close();
      await writer.close();
      await dropTable(url, table);
    }
  },
);

test("pg flags: --pg-tombstone-retention takes a duration or off", () => {
  assert.equal(parseRetention("7d"), 7 * 86_400_000);
  assert.equal(parseRetention("12h"), 43_200_000);
  assert.equal(parseRetention("30m"), 1_800_000);
  assert.equal(parseRetention("90"), 90_000);
  assert.equal(parseRetention("250ms"), 250);
  assert.equal(parseRetention("off"), Infinity);
  for (const bad of ["", "0", "-1d", "7 days", "1w"]) {
    assert.throws(() => parseRetention(bad), { code: "INVALID_ARGUMENT" }, bad);
  }
});

test("pg store: each replica purges on its own every purgeEveryMs; the retention is checked", needsPg, async () => {
  const table = uniqueTable();
  await assert.rejects(PgVectorStore.connect({ url, dim: 2, table, tombstoneRetentionMs: 0 }), {
    code: "INVALID_ARGUMENT",
  });
  const s = await PgVectorStore.connect({ url, dim: 2, table, tombstoneRetentionMs: 1, purgeEveryMs: 50 });
  try {
    await s.write({ put: [item("a", "x", vec(1, 0)), item("b", "x", vec(0, 1))] });
    await s.write({ delete: ["a"] });
    const count = async () =>
      Number((await admin(url, (sql) => sql.unsafe(`select count(*)::int as n from ${table}`)))[0].n);
    await until(async () => (await count()) === 1, 5000, "the timer's purge of the tombstone");
    assert.ok(s.counters.purged >= 1);
    assert.deepEqual((await s.load()).map((r) => r.id), ["b"]);
  } finally {
    await s.close();
    await dropTable(url, table);
  }
});
