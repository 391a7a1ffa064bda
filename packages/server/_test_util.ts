// Shared test fixtures for the server tests (not exported from mod.ts).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ServedModel } from "./model.ts";

/** A temp directory for a test's store. */
export function tempDir(prefix = "likeness-server-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * A small deterministic text model: character-trigram hashing into `dim` buckets, L2 normalised.
 * Real enough for routing tests (similar strings get similar vectors) without loading weights.
 */
export function trigramModel(dim = 16): ServedModel {
  return {
    name: "trigram-test",
    dim,
    threshold: 0.5,
    checkInput(input: unknown) {
      if (typeof input !== "string" || input.length === 0) throw new TypeError("input must be a non-empty string");
    },
    encode(inputs: unknown[]) {
      return Promise.resolve(inputs.map((s) => {
        const v = new Float32Array(dim);
        const t = `  ${String(s).toLowerCase()} `;
        for (let i = 0; i + 3 <= t.length; i++) {
          let h = 2166136261;
          for (let j = i; j < i + 3; j++) h = Math.imul(h ^ t.charCodeAt(j), 16777619);
          v[(h >>> 0) % dim] += 1;
        }
        let n = 0;
        for (const x of v) n += x * x;
        n = Math.sqrt(n) || 1;
        return v.map((x) => x / n);
      }));
    },
  };
}

/**
 * Wait until a spawned server prints its `http://127.0.0.1:PORT` line; resolves the port and
 * keeps collecting output in `out.log`. Rejects after 60 s, or when the process exits first.
 */
export function listeningPort(
  child: {
    stdout: NodeJS.ReadableStream | null;
    stderr: NodeJS.ReadableStream | null;
    on(e: "close", f: () => void): unknown;
  },
  out: { log: string },
): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out.log}`)), 60_000);
    let done = false;
    const onData = (d: Uint8Array | string) => {
      out.log += typeof d === "string" ? d : new TextDecoder().decode(d);
      const m = /http:\/\/127\.0\.0\.1:(\d+)/.exec(out.log);
      if (m && !done) {
        done = true;
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("close", () => {
      if (!done) {
        clearTimeout(timer);
        reject(new Error(`server exited: ${out.log}`));
      }
    });
  });
}
