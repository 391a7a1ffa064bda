import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { SqliteStore } from "@likeness/server";
import { listeningPort, tempDir } from "./_test_util.ts";

// Kill the server with SIGKILL in the middle of a stream of hot-adds; every acknowledged id
// must be there after a restart.
test("crash: SIGKILL during hot-adds loses no acknowledged write", async () => {
  const dir = tempDir("likeness-crash-");
  const main = fileURLToPath(new URL("./main.ts", import.meta.url));
  const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
  const args = isBun ? ["run", main] : ["run", "-A", main];
  const child = spawn(process.execPath, [...args, "--dim", "8", "--data", dir, "--port", "0", "--backend", "js"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out = { log: "" };
  const port = await listeningPort(child, out);
  const acked: string[] = [];
  const exited = new Promise((r) => child.on("exit", r));
  // Several concurrent writers; kill after 40 acknowledgements, while requests are in flight.
  let stop = false;
  const writer = async (w: number) => {
    for (let i = 0; !stop && i < 1000; i++) {
      const id = `w${w}-${i}`;
      try {
        const res = await fetch(`http://127.0.0.1:${port}/v1/references`, {
          method: "POST",
          body: JSON.stringify({
            items: [{ id, label: `c${i % 3}`, vector: Array.from({ length: 8 }, (_, j) => Math.sin(i + j + w)) }],
          }),
        });
        if (res.status === 200) {
          await res.body?.cancel();
          acked.push(id);
          if (acked.length === 40) {
            child.kill("SIGKILL");
            stop = true;
          }
        }
      } catch {
        return; // connection refused or reset after the kill
      }
    }
  };
  await Promise.all([writer(0), writer(1), writer(2), writer(3)]);
  await exited;
  assert.ok(acked.length >= 40, `acknowledged ${acked.length}`);
  const store = await SqliteStore.open(join(dir, "likeness.db"));
  const ids = new Set((await store.load()).map((i) => i.id));
  await store.close();
  const lost = acked.filter((id) => !ids.has(id));
  assert.deepEqual(lost, [], "acknowledged ids missing after restart");
});
