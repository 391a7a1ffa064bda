// Server replicas on one PostgreSQL + pgvector: real `serve --pg` processes on loopback, a real
// server, real faults (a Postgres restart under load). Each test prints one `pg:` line with what
// it measured. Skipped, with the reason, where there is no PostgreSQL.
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { listeningPort } from "../packages/server/_test_util.ts";
import {
  admin,
  dropTable,
  needsOwnCluster,
  needsPg,
  ownCluster,
  PG_URL,
  uniqueTable,
  until,
} from "../packages/server/_pg_test_util.ts";

const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
const MAIN = fileURLToPath(new URL("../packages/server/main.ts", import.meta.url));
const DIM = 8;

interface Replica {
  child: ChildProcess;
  base: string;
  out: { log: string };
  stop(): Promise<void>;
}

async function replica(url: string, table: string, extra: string[] = []): Promise<Replica> {
  const child = spawn(process.execPath, [
    ...(isBun ? ["run"] : ["run", "-A"]),
    MAIN,
    "--dim",
    String(DIM),
    "--pg",
    url,
    "--pg-table",
    table,
    "--port",
    "0",
    "--backend",
    "js",
    "--token",
    "t",
    ...extra,
  ], { stdio: ["ignore", "pipe", "pipe"] });
  const out = { log: "" };
  const exited = new Promise<void>((r) => child.on("exit", () => r()));
  const port = await listeningPort(child, out);
  return {
    child,
    out,
    base: `http://127.0.0.1:${port}`,
    async stop() {
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}

const vecOf = (i: number) => Array.from({ length: DIM }, (_, j) => Math.sin(i * 7.1 + j * 1.3));
const auth = { authorization: "Bearer t", "content-type": "application/json" };

function put(r: Replica, ids: string[]): Promise<Response> {
  return fetch(`${r.base}/v1/references`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({
      items: ids.map((id) => ({
        id,
        label: `l${Number(id.replace(/\D/g, "")) % 3}`,
        vector: vecOf(Number(id.replace(/\D/g, ""))),
        payload: { id },
      })),
    }),
  });
}

async function has(r: Replica, id: string): Promise<boolean> {
  const res = await fetch(`${r.base}/v1/references/${encodeURIComponent(id)}`);
  await res.body?.cancel();
  return res.status === 200;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

test(
  "pg replicas: writes and deletes acknowledged on one replica are visible on the others within a second; a replica started while writes flow misses nothing",
  needsPg,
  async () => {
    const url = PG_URL!;
    const table = uniqueTable("rep");
    const a = await replica(url, table);
    const b = await replica(url, table);
    let c: Replica | undefined;
    try {
      const lags: number[] = [];
      for (let i = 0; i < 20; i++) {
        const id = `x${i}`;
        const res = await put(i % 2 ? b : a, [id]);
        assert.equal(res.status, 200, await res.text());
        const t0 = performance.now();
        await until(() => has(i % 2 ? a : b, id), 1000, `${id} on the other replica`);
        lags.push(performance.now() - t0);
      }
      // Search on B finds what A wrote, same shape as a local search.
      const s = await (await fetch(`${b.base}/v1/search`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ vector: vecOf(4), k: 1 }),
      })).json();
      assert.deepEqual(s.results[0].id, "x4");
      assert.deepEqual(Object.keys(s.results[0]).sort(), ["id", "label", "payload", "score"]);
      // A delete on B disappears on A.
      const del = await fetch(`${b.base}/v1/references/x0`, { method: "DELETE", headers: auth });
      assert.equal(del.status, 204);
      const t0 = performance.now();
      await until(async () => !(await has(a, "x0")), 1000, "the delete on A");
      lags.push(performance.now() - t0);
      // A third replica starts while A writes.
      let n = 100;
      let flowing = true;
      const acked: string[] = [];
      const writer = (async () => {
        while (flowing) {
          const id = `y${n++}`;
          const r = await put(a, [id]);
          if (r.status === 200) acked.push(id);
          await r.body?.cancel();
        }
      })();
      await new Promise((r) => setTimeout(r, 200));
      c = await replica(url, table);
      await new Promise((r) => setTimeout(r, 300));
      flowing = false;
      await writer;
      const written = acked.length;
      assert.ok(written > 5, `writes flowed (${written})`);
      await until(
        async () => {
          const h = await (await fetch(`${c!.base}/v1/health`)).json();
          return h.references === 19 + written;
        },
        2000,
        "the third replica to hold every acknowledged write",
      );
      for (const id of acked) assert.ok(await has(c, id), `${id} on the new replica`);
      assert.equal(await has(c, "x0"), false);
      const h = await (await fetch(`${c.base}/v1/health`)).json();
      assert.equal(h.search, "memory");
      assert.match(h.store, /postgres:.*\(search: memory\)/);
      console.log(
        `pg: ${lags.length} replicated changes, lag p50 ${pct(lags, 0.5).toFixed(1)} ms, max ${
          Math.max(...lags).toFixed(1)
        } ms; replica started during ${written} writes holds all of them`,
      );
    } finally {
      await a.stop();
      await b.stop();
      await c?.stop();
      await dropTable(url, table);
    }
  },
);

test(
  "pg replicas: search mode postgres answers from pgvector (HNSW) in the same shape and says so",
  needsPg,
  async () => {
    const url = PG_URL!;
    const table = uniqueTable("rem");
    const mem = await replica(url, table);
    const pgr = await replica(url, table, ["--search", "postgres", "--ef-search", "64"]);
    try {
      const res = await put(pgr, Array.from({ length: 30 }, (_, i) => `z${i}`));
      assert.deepEqual(await res.json(), { added: 30, updated: 0 });
      assert.deepEqual(await (await put(pgr, ["z1", "z99"])).json(), { added: 1, updated: 1 });
      await until(() => has(mem, "z99"), 1000, "the memory replica to see the postgres replica's write");
      for (const label of [undefined, "l1"]) {
        const body = JSON.stringify({ vector: vecOf(7), k: 5, ...(label ? { label } : {}) });
        const [x, y] = await Promise.all(
          [mem, pgr].map(async (r) =>
            (await (await fetch(`${r.base}/v1/search`, { method: "POST", headers: auth, body })).json()).results
          ),
        );
        assert.deepEqual(y.map((h: { id: string }) => h.id), x.map((h: { id: string }) => h.id), `label ${label}`);
        for (let i = 0; i < x.length; i++) {
          assert.ok(Math.abs(x[i].score - y[i].score) < 1e-5);
          assert.deepEqual({ ...y[i], score: 0 }, { ...x[i], score: 0 });
        }
      }
      const cls = await (await fetch(`${pgr.base}/v1/classify`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ vector: vecOf(7), k: 3 }),
      })).json();
      assert.equal(cls.neighbours[0].id, "z7");
      assert.equal(await has(pgr, "z3"), true);
      assert.equal((await fetch(`${pgr.base}/v1/references/z3`, { method: "DELETE", headers: auth })).status, 204);
      assert.equal((await fetch(`${pgr.base}/v1/references/z3`, { method: "DELETE", headers: auth })).status, 404);
      assert.equal(await has(pgr, "z3"), false);
      const h = await (await fetch(`${pgr.base}/v1/health`)).json();
      assert.equal(h.search, "postgres");
      assert.equal(h.references, 30);
      const metrics = await (await fetch(`${pgr.base}/metrics`)).text();
      assert.match(metrics, /likeness_search_mode\{mode="postgres"\} 1/);
      assert.match(await (await fetch(`${mem.base}/metrics`)).text(), /likeness_search_mode\{mode="memory"\} 1/);
    } finally {
      await mem.stop();
      await pgr.stop();
      await dropTable(url, table);
    }
  },
);

test(
  "pg replicas: PostgreSQL restarted under load: writes answer 503, no acknowledged write is lost, replicas reconnect and catch up",
  needsOwnCluster,
  async () => {
    const cluster = ownCluster();
    const table = "restart_drill";
    const a = await replica(cluster.url, table);
    const b = await replica(cluster.url, table);
    try {
      const acked: string[] = [];
      const statuses = new Map<number, number>();
      const byId = new Map<string, number>();
      let searchesOk = 0;
      let n = 0;
      let flowing = true;
      const writer = async (r: Replica, prefix: string) => {
        while (flowing) {
          const id = `${prefix}${n++}`;
          try {
            const res = await put(r, [id]);
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
            byId.set(id, res.status);
            if (res.status === 200) acked.push(id);
            else await new Promise((s) => setTimeout(s, 20)); // a client's back-off
            await res.body?.cancel().catch(() => {});
          } catch {
            statuses.set(0, (statuses.get(0) ?? 0) + 1);
          }
        }
      };
      // A request that gets no HTTP answer at all (a connection reset on the client's side) is counted
      // and retried, as a client would; whether the replicas stayed up is asserted after the drill.
      const transport: string[] = [];
      const reader = async () => {
        while (flowing) {
          try {
            const res = await fetch(`${b.base}/v1/search`, {
              method: "POST",
              headers: auth,
              body: JSON.stringify({ vector: vecOf(1), k: 3 }),
            });
            if (res.status === 200) searchesOk++;
            await res.body?.cancel().catch(() => {});
          } catch (e) {
            transport.push(`search: ${(e as Error).message}`);
            await new Promise((s) => setTimeout(s, 20));
          }
        }
      };
      const load = [writer(a, "a"), writer(b, "b"), reader()];
      await new Promise((r) => setTimeout(r, 400));
      let degraded = false;
      const watchHealth = (async () => {
        while (flowing) {
          try {
            const h = await (await fetch(`${a.base}/v1/health`)).json();
            if (h.status === "degraded") degraded = true;
          } catch (e) {
            transport.push(`health: ${(e as Error).message}`);
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      const before = acked.length;
      await cluster.restart(); // pg_ctl stop (fast) and start on the same port
      await new Promise((r) => setTimeout(r, 1000));
      flowing = false;
      await Promise.all([...load, watchHealth]);
      for (const [name, r] of [["a", a], ["b", b]] as const) {
        assert.ok(
          r.child.exitCode === null && r.child.signalCode === null,
          `replica ${name} is still running after the restart (exit ${r.child.exitCode}); its log: ${r.out.log}`,
        );
      }
      assert.ok(transport.length <= 3, `requests without an HTTP answer: ${JSON.stringify(transport)}`);
      const after = acked.length - before;
      assert.ok(
        (statuses.get(503) ?? 0) > 0,
        `writes during the restart answered 503 (${JSON.stringify([...statuses])})`,
      );
      assert.equal(statuses.get(500) ?? 0, 0, "no 500s");
      assert.ok(degraded, "health said degraded during the outage");
      assert.ok(after > 0, "writes succeeded again after the restart");
      // Every acknowledged write is in Postgres and on both replicas.
      const inDb = new Set(
        (await admin(cluster.url, (sql) => sql.unsafe(`select id from ${table} where deleted_at is null`))).map((r) =>
          r.id as string
        ),
      );
      const lost = acked.filter((id) => !inDb.has(id));
      assert.deepEqual(lost, [], "acknowledged writes lost");
      for (const r of [a, b]) {
        let last: unknown;
        await until(
          async () => {
            const h = await (await fetch(`${r.base}/v1/health`)).json();
            last = h;
            return h.references === inDb.size && h.status === "ok";
          },
          5000,
          "a replica to catch up after the restart",
        ).catch(async (e) => {
          const miss: string[] = [];
          for (const id of inDb) if (!(await has(r, id))) miss.push(id);
          const rows = await admin(
            cluster.url,
            (sql) => sql.unsafe(`select id, change_id from ${table} where id = any($1)`, [miss]),
          );
          throw new Error(
            `${e.message}: ${inDb.size} in Postgres, health ${JSON.stringify(last)}; missing ${
              JSON.stringify(rows)
            } (statuses seen for them: ${JSON.stringify(miss.map((id) => [id, byId.get(id)]))}); log ${r.out.log}`,
          );
        });
      }
      // And live replication works again (the LISTEN connection came back).
      const res = await put(a, ["after999"]);
      assert.equal(res.status, 200);
      const t0 = performance.now();
      // Reconnecting after a restart can take a few polling rounds (backoff), so allow more than the steady-state second.
      await until(() => has(b, "after999"), 10000, "a live change after the restart");
      console.log(
        `pg: restart under load: ${acked.length} writes acknowledged (${before} before, ${after} after), ` +
          `statuses ${JSON.stringify(Object.fromEntries(statuses))}, ${lost.length} acknowledged writes lost, ` +
          `${searchesOk} searches answered, ${transport.length} requests without an answer, lag after ${
            (performance.now() - t0).toFixed(1)
          } ms`,
      );
    } finally {
      await a.stop();
      await b.stop();
      cluster.stop();
    }
  },
);

test(
  "pg replicas: tombstones purged (--pg-tombstone-retention 1s): a live replica needs no reload; one frozen past the purge reloads in full and says so",
  needsPg,
  async () => {
    const url = PG_URL!;
    const table = uniqueTable("purge");
    const flags = ["--pg-tombstone-retention", "1s"]; // each replica purges every second
    const a = await replica(url, table, flags);
    const b = await replica(url, table, flags);
    const tombstones = async (id: string) =>
      Number(
        (await admin(url, (sql) => sql.unsafe(`select count(*)::int as n from ${table} where id = $1`, [id])))[0].n,
      );
    const del = async (id: string) => {
      const r = await fetch(`${a.base}/v1/references/${id}`, { method: "DELETE", headers: auth });
      assert.equal(r.status, 204);
    };
    const health = async (r: Replica) => await (await fetch(`${r.base}/v1/health`)).json();
    try {
      assert.equal((await put(a, ["x1", "x2", "x3", "x4"])).status, 200);
      await until(() => has(b, "x4"), 2000, "x4 on b");
      // Live: b sees the delete through its catch-up before the tombstone is purged.
      await del("x1");
      await until(async () => !(await has(b, "x1")), 2000, "the delete on b");
      await until(async () => (await tombstones("x1")) === 0, 8000, "the purge of x1's tombstone");
      assert.equal((await health(b)).detail, undefined, "no reload for a replica that kept up");
      assert.equal((await health(b)).storeEvents.reloads, 0);
      // Frozen: b misses the delete and its tombstone's purge, then comes back.
      // process.kill, not child.kill: Deno's ChildProcess sends nothing more once it saw the child stop.
      process.kill(b.child.pid!, "SIGSTOP");
      try {
        await del("x2");
        await until(async () => (await tombstones("x2")) === 0, 8000, "the purge of x2's tombstone");
      } finally {
        process.kill(b.child.pid!, "SIGCONT");
      }
      await until(async () => !(await has(b, "x2")), 8000, "the purged delete on b after its reload");
      assert.ok((await has(b, "x3")) && (await has(b, "x4")));
      const h = await health(b);
      assert.equal(h.status, "ok");
      assert.equal(h.references, 2);
      assert.match(h.detail, /reloaded all 2 live references .*older than the tombstone purge horizon/);
      assert.match(b.out.log, /reloaded all 2 live references/);
      assert.equal(h.storeEvents.reloads, 1, JSON.stringify(h.storeEvents));
      // Both replicas purge (one at a time): the two tombstones were purged by one or the other.
      const purged = (await health(a)).storeEvents.purged + h.storeEvents.purged;
      assert.equal(purged, 2, JSON.stringify([(await health(a)).storeEvents, h.storeEvents]));
      const metrics = await (await fetch(`${b.base}/metrics`)).text();
      assert.match(metrics, /^likeness_store_events_total\{event="reloads"\} 1$/m);
      console.log(`pg: tombstone purge: live replica 0 reloads; frozen replica: ${h.detail}`);
    } finally {
      await a.stop();
      await b.stop();
      await dropTable(url, table);
    }
  },
);
