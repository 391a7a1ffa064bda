// The fault suite: real processes, real files, real faults. Each test prints one `faults:` line
// with what it did and what it measured. Runs in Deno and in Bun.
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, execSync, spawn } from "node:child_process";
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { SqliteStore } from "@likeness/server";

const isBun = typeof (globalThis as { Bun?: unknown }).Bun !== "undefined";
const runtime = isBun ? "bun" : "deno";
const run = isBun ? ["run"] : ["run", "-A"];
const MAIN = fileURLToPath(new URL("../packages/server/main.ts", import.meta.url));
const WRITER = fileURLToPath(new URL("./faults/_writer.ts", import.meta.url));
const temp = (p: string) => mkdtempSync(join(tmpdir(), `likeness-fault-${p}-`));

interface Server {
  child: ChildProcess;
  port: number;
  log: () => string;
  url: (p: string) => string;
  exited: Promise<number | null>;
}

/** Start `serve` in a fresh process; resolves once it listens, rejects with its output if it exits first. */
function serve(args: string[]): Promise<Server> {
  const child = spawn(process.execPath, [...run, MAIN, "--port", "0", "--backend", "js", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listen line: ${log}`)), 30_000);
    const onData = (d: Uint8Array) => {
      log += new TextDecoder().decode(d);
      const m = /http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        const port = Number(m[1]);
        resolve({ child, port, log: () => log, url: (p) => `http://127.0.0.1:${port}${p}`, exited });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    exited.then((code) => {
      clearTimeout(timer);
      reject(Object.assign(new Error(`server exited ${code}: ${log}`), { log, code }));
    });
  });
}

/** Run `serve` expecting it to refuse to start; returns its exit code and output. */
async function refuses(args: string[]): Promise<{ code: number | null; log: string }> {
  try {
    const s = await serve(args);
    s.child.kill("SIGKILL");
    throw new Error(`server started: ${s.log()}`);
  } catch (e) {
    const x = e as { code?: number | null; log?: string };
    if (x.log === undefined) throw e;
    return { code: x.code ?? null, log: x.log };
  }
}

async function stop(s: Server) {
  s.child.kill("SIGTERM");
  await s.exited;
}

const vec = (i: number, dim = 8) => Array.from({ length: dim }, (_, k) => Math.cos(i * 0.37 + k));
const post = (s: Server, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(s.url(path), { method: "POST", headers, body: typeof body === "string" ? body : JSON.stringify(body) });

test("faults: SIGKILL at random moments during mixed writes loses no acknowledged write or delete", async () => {
  const path = join(temp("kill"), "likeness.db");
  const kills = 50;
  const ackedPut = new Set<string>();
  const ackedDel = new Set<string>();
  const triedDel = new Set<string>();
  let acks = 0;
  // A seeded schedule of kill delays (ms after the writer is ready).
  let seed = 12345;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const lostPuts = new Set<string>(), lostDels = new Set<string>();
  for (let round = 0; round < kills; round++) {
    const child = spawn(process.execPath, [...run, WRITER, path, String(round)], { stdio: ["ignore", "pipe", "pipe"] });
    let buf = "";
    let err = "";
    const exited = new Promise((r) => child.on("exit", r));
    await new Promise<void>((resolve, reject) => {
      let killed = false;
      child.stderr!.on("data", (d) => (err += d));
      child.stdout!.on("data", (d: Uint8Array) => {
        buf += new TextDecoder().decode(d);
        let nl;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line === "ready" && !killed) {
            killed = true;
            setTimeout(() => child.kill("SIGKILL"), 5 + rand() * 40);
            continue;
          }
          const t = /^try (\S*)$/.exec(line);
          if (t) { for (const id of t[1].split(",")) if (id) triedDel.add(id); }
          const m = /^ack (\S*) del (\S*)$/.exec(line);
          if (!m) continue;
          acks++;
          for (const id of m[1].split(",")) if (id) ackedPut.add(id);
          for (const id of m[2].split(",")) if (id) ackedDel.add(id);
        }
      });
      exited.then(() => (killed ? resolve() : reject(new Error(`writer exited early: ${err}`))));
    });
    // Every acknowledged put is there (unless an acknowledged delete removed it), every
    // acknowledged delete is gone.
    const store = await SqliteStore.open(path, { dim: 8 });
    const ids = new Set((await store.load()).map((i) => i.id));
    await store.close();
    for (const id of ackedPut) if (!triedDel.has(id) && !ids.has(id)) lostPuts.add(id);
    for (const id of ackedDel) if (ids.has(id)) lostDels.add(id);
  }
  console.log(
    `faults[${runtime}]: ${kills} kills, ${acks} acknowledged batches (${ackedPut.size} puts, ${ackedDel.size} deletes), ` +
      `${lostPuts.size} acknowledged writes lost, ${lostDels.size} acknowledged deletes undone`,
  );
  assert.ok(acks >= kills, `only ${acks} acknowledged batches`);
  assert.deepEqual([...lostPuts], []);
  assert.deepEqual([...lostDels], []);
});
