// The SQLite store's writer thread (`_sqlite_writer.ts` + `_sqlite_writer_client.ts`) on real files:
// commits run off the main thread, and a writer thread that dies (an uncaught error before or after
// its commit, or terminated from outside) never leaves a write hanging or wrongly answered: an
// acknowledged write is on disk, a WORKER_FAILED one is not, the thread restarts and later writes
// commit; after MAX_WRITER_RESTARTS deaths in a row writes fail fast with WORKER_FAILED.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { INJECT_WRITER_FAULT, MAX_WRITER_RESTARTS, type ReferenceItem, SqliteStore } from "@likeness/server";
import { tempDir } from "./_test_util.ts";
import { bounded as boundedBy } from "@likeness/core/testing";

const item = (id: string, x = 1): ReferenceItem => ({ id, label: "c", vector: Float32Array.of(x, 0, 1) });
const BOUND_MS = 10_000;

/** `p`, or a rejection "hung" after BOUND_MS. */
const bounded = <T>(p: Promise<T>): Promise<T> => boundedBy(p, BOUND_MS);

async function idsOnDisk(path: string): Promise<string[]> {
  const s = await SqliteStore.open(path, { dim: 3 });
  try {
    return (await s.load()).map((i) => i.id).sort();
  } finally {
    await s.close();
  }
}

test("sqlite writer: a commit runs off the main thread (its timers fire while a write is in flight)", async () => {
  const path = join(tempDir(), "likeness.db");
  const s = await SqliteStore.open(path, { dim: 3 });
  try {
    const put = Array.from({ length: 5000 }, (_, i) => item(`r${i}`, i));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const t0 = performance.now();
    const r = await s.write({ put });
    const ms = performance.now() - t0;
    clearInterval(timer);
    assert.deepEqual(r, { added: 5000, updated: 0, deleted: 0 });
    // A commit on the main thread resolves without ever yielding: no timer could fire.
    assert.ok(ticks > 0, `no timer fired during a ${ms.toFixed(1)} ms write`);
    assert.equal(s.seq, 1);
  } finally {
    await s.close();
  }
  assert.equal((await idsOnDisk(path)).length, 5000);
});

test("sqlite writer: a thread that dies before its commit fails that write (WORKER_FAILED, not stored), then restarts", async () => {
  const path = join(tempDir(), "likeness.db");
  const s = await SqliteStore.open(path, { dim: 3 });
  try {
    await s.write({ put: [item("a")] });
    s[INJECT_WRITER_FAULT]("throw-before-commit");
    await assert.rejects(bounded(s.write({ put: [item("b")] })), (e: { code?: string }) => e.code === "WORKER_FAILED");
    const h = s.health();
    assert.equal(h.status, "degraded");
    assert.match(h.detail ?? "", /writer thread/);
    // The next write waits for the fresh thread and commits; health recovers.
    assert.deepEqual(await bounded(s.write({ put: [item("c")], delete: ["a"] })), {
      added: 1,
      updated: 0,
      deleted: 1,
    });
    assert.deepEqual(s.health(), { status: "ok" });
    assert.equal(s.seq, 2);
    assert.deepEqual((await s.load()).map((i) => i.id), ["c"]);
  } finally {
    await s.close();
  }
  assert.deepEqual(await idsOnDisk(path), ["c"]);
});

test("sqlite writer: a thread that dies after its commit, before answering: the write is acknowledged with its counts", async () => {
  const path = join(tempDir(), "likeness.db");
  const s = await SqliteStore.open(path, { dim: 3 });
  try {
    await s.write({ put: [item("a"), item("b")] });
    s[INJECT_WRITER_FAULT]("throw-after-commit");
    assert.deepEqual(await bounded(s.write({ put: [item("a", 2), item("c")], delete: ["b"] })), {
      added: 1,
      updated: 1,
      deleted: 1,
    });
    assert.equal(s.seq, 2);
    await s.write({ put: [item("d")] });
    assert.deepEqual(s.health(), { status: "ok" });
  } finally {
    await s.close();
  }
  assert.deepEqual(await idsOnDisk(path), ["a", "c", "d"]);
});

test("sqlite writer: terminated with writes in flight, each is either acknowledged and stored or WORKER_FAILED and absent", async () => {
  const path = join(tempDir(), "likeness.db");
  const s = await SqliteStore.open(path, { dim: 3 });
  const acked: string[] = [], failed: string[] = [];
  try {
    for (let round = 0; round < 3; round++) {
      const writes = Array.from({ length: 20 }, (_, i) => {
        const id = `r${round}-${i}`;
        return s.write({ put: Array.from({ length: 50 }, (_, j) => item(`${id}-${j}`)) }).then(
          () => acked.push(id),
          (e: { code?: string }) => {
            assert.equal(e.code, "WORKER_FAILED");
            failed.push(id);
          },
        );
      });
      await new Promise((r) => setTimeout(r, 2 * round));
      s[INJECT_WRITER_FAULT]("terminate");
      await bounded(Promise.all(writes));
      await s.write({ put: [item(`after-${round}`)] }); // the fresh thread writes
    }
  } finally {
    await s.close();
  }
  assert.equal(acked.length + failed.length, 60);
  assert.ok(failed.length > 0, "terminating the thread failed no write");
  const onDisk = new Set(await idsOnDisk(path));
  for (const id of acked) for (let j = 0; j < 50; j++) assert.ok(onDisk.has(`${id}-${j}`), `${id} acknowledged, lost`);
  for (const id of failed) assert.ok(!onDisk.has(`${id}-0`), `${id} failed, yet stored`);
  for (let round = 0; round < 3; round++) assert.ok(onDisk.has(`after-${round}`));
  console.log(
    `sqlite writer: 3 terminations, ${acked.length} writes acknowledged and stored, ${failed.length} failed and absent`,
  );
});

test(`sqlite writer: after ${MAX_WRITER_RESTARTS} restarts without a good write, writes fail fast with WORKER_FAILED`, async () => {
  const path = join(tempDir(), "likeness.db");
  const s = await SqliteStore.open(path, { dim: 3 });
  try {
    await s.write({ put: [item("a")] });
    for (let i = 0; i <= MAX_WRITER_RESTARTS; i++) {
      s[INJECT_WRITER_FAULT]("throw-before-commit");
      await assert.rejects(
        bounded(s.write({ put: [item(`x${i}`)] })),
        (e: { code?: string }) => e.code === "WORKER_FAILED",
      );
    }
    const t0 = performance.now();
    await assert.rejects(s.write({ put: [item("y")] }), (e: { code?: string; message: string }) => {
      return e.code === "WORKER_FAILED" && /refused until the server is restarted/.test(e.message);
    });
    assert.ok(performance.now() - t0 < 1000);
    assert.equal(s.health().status, "degraded");
    assert.deepEqual((await s.load()).map((i) => i.id), ["a"]); // reads still work
  } finally {
    await s.close();
  }
  assert.deepEqual(await idsOnDisk(path), ["a"]);
});

test("sqlite writer: with deferCheck, open returns before PRAGMA quick_check and verified settles with it", async () => {
  const path = join(tempDir(), "likeness.db");
  const s = await SqliteStore.open(path, { dim: 3 });
  await s.write({ put: [item("a")] });
  await s.close();
  const d = await SqliteStore.open(path, { dim: 3, deferCheck: true });
  try {
    await bounded(d.verified);
    assert.deepEqual((await d.load()).map((i) => i.id), ["a"]);
    await d.write({ put: [item("b")] });
  } finally {
    await d.close();
  }
  assert.deepEqual(await idsOnDisk(path), ["a", "b"]);
});
