/**
 * The load generator of `bench/serve_main.ts`, run as its own process so that its CPU is measured
 * apart from the server's and the bench's: `CONCURRENCY` keep-alive HTTP/1.1 connections over raw
 * TCP (`node:net`), each sending pre-serialised requests (request line, headers and body built once)
 * one after another and reading each answer by its `content-length`. No fetch, no Request/Response
 * objects, no JSON parse of the answers (the status line is checked): the cheapest client that still
 * does real HTTP, so that what it costs (printed) is small beside what it measures.
 *
 * Usage: `deno run -A bench/_serve_client.ts JOB.json` (or `bun bench/_serve_client.ts JOB.json`), the
 * file holding `{"port":8787,"path":"/v1/search","bodies":[...],"concurrency":8,"requests":1000,
 * "timeLimitMs":30000}`.
 * Prints one JSON line: requests, seconds, latencies (ms, in completion order) and the process's
 * CPU seconds (user, system).
 *
 * @module
 */
import process from "node:process";
import { connect, type Socket } from "node:net";
import { Buffer } from "node:buffer";
import { readFileSync } from "node:fs";

interface Job {
  port: number;
  path: string;
  bodies: string[];
  concurrency: number;
  requests: number;
  timeLimitMs: number;
}

const job = JSON.parse(readFileSync(process.argv[process.argv.length - 1], "utf8")) as Job;
const requests = job.bodies.map((b) => {
  const body = Buffer.from(b);
  return Buffer.concat([
    Buffer.from(
      `POST ${job.path} HTTP/1.1\r\nhost: 127.0.0.1:${job.port}\r\ncontent-type: application/json\r\n` +
        `content-length: ${body.length}\r\n\r\n`,
    ),
    body,
  ]);
});

const HEAD_END = Buffer.from("\r\n\r\n");
const lat: number[] = [];
let sent = 0;
let failed: string | undefined;
const cpu0 = process.cpuUsage();
const start = performance.now();

/** One connection: send, read the whole answer, repeat until the job is done. */
function client(): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock: Socket = connect({ port: job.port, host: "127.0.0.1", noDelay: true });
    let buf: Buffer = Buffer.alloc(0);
    let t = 0;
    const next = () => {
      if (failed || sent >= job.requests || performance.now() - start >= job.timeLimitMs) {
        sock.end();
        resolve();
        return;
      }
      const req = requests[sent++ % requests.length];
      t = performance.now();
      sock.write(req);
    };
    sock.on("connect", next);
    sock.on("error", reject);
    sock.on("data", (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      for (;;) {
        const he = buf.indexOf(HEAD_END);
        if (he < 0) return;
        const head = buf.subarray(0, he).toString("latin1");
        const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
        if (!m) {
          failed = `no content-length in ${JSON.stringify(head)}`;
          sock.destroy();
          resolve();
          return;
        }
        const end = he + 4 + Number(m[1]);
        if (buf.length < end) return;
        const status = head.slice(9, 12);
        if (status !== "200") failed ??= `status ${status}: ${buf.subarray(he + 4, end).toString()}`;
        buf = buf.subarray(end);
        lat.push(performance.now() - t);
        next();
      }
    });
  });
}

await Promise.all(Array.from({ length: job.concurrency }, client));
const seconds = (performance.now() - start) / 1000;
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify({
  requests: lat.length,
  seconds,
  lat,
  cpu_user_s: cpu.user / 1e6,
  cpu_system_s: cpu.system / 1e6,
  ...(failed ? { failed } : {}),
}));
process.exit(0);
