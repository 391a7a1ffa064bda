/**
 * Start a fetch handler on a TCP port under Deno (Deno's HTTP server with header and idle
 * deadlines) or Bun (`Bun.serve`). This is an edge of the system: with `_deno_serve.ts`, the only
 * server files that touch runtime globals.
 *
 * @module
 */
import { LikenessError } from "@likeness/core";
import { closingResponse, serveDeno } from "./_deno_serve.ts";

/** A running server. */
export interface RunningServer {
  /** The bound port. */
  port: number;
  /** The bound hostname. */
  hostname: string;
  /** Stop accepting connections. */
  close(): Promise<void>;
}

type Fetch = (req: Request) => Response | Promise<Response>;

/** Options of {@link serveFetch} (defaults in brackets). */
export interface ServeOptions {
  /** TCP port; 0 picks a free one [0]. */
  port?: number;
  /** Bind address [127.0.0.1]. */
  hostname?: string;
  /**
   * A connection must finish its first request's headers within this many milliseconds of being
   * accepted [10,000]. Deno: enforced by `_deno_serve.ts`. Bun: `Bun.serve` has no setting for it
   * and cuts unfinished headers after its own fixed 10 s (measured 12 s), whatever this says.
   */
  headerTimeoutMs?: number;
  /**
   * A keep-alive connection idle for this many seconds is closed, in both runtimes (1..255) [30].
   * Deno: the next request's headers must also be complete by then.
   */
  idleTimeoutS?: number;
}

/**
 * Serve `fetch` on `hostname:port` (port 0 picks a free one). Deno serves with Deno's HTTP server
 * on our own accept loop with the header and idle deadlines of `_deno_serve.ts` (`Deno.serve` has
 * neither, so slow or idle clients held their sockets forever); Bun with `Bun.serve` and its
 * `idleTimeout`. In both, a 408 or 413 (a body not read) closes its connection.
 *
 * @param fetch the handler (e.g. `app.fetch`)
 * @param options port, hostname, header and idle timeouts ({@link ServeOptions})
 * @returns the running server
 * @throws {LikenessError} UNSUPPORTED outside Deno and Bun
 * @example
 * ```ts
 * import { serveFetch } from "@likeness/server";
 * const s = await serveFetch(() => new Response("ok"), { port: 0 });
 * await s.close();
 * ```
 */
export async function serveFetch(fetch: Fetch, options: ServeOptions = {}): Promise<RunningServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? 0;
  const idleTimeoutS = options.idleTimeoutS ?? 30;
  const headerTimeoutMs = options.headerTimeoutMs ?? 10_000;
  const g = globalThis as unknown as {
    Bun?: { serve(o: unknown): { port: number; stop(force?: boolean): void } };
    Deno?: unknown;
  };
  if (g.Bun) {
    const s = g.Bun.serve({
      port,
      hostname,
      idleTimeout: idleTimeoutS,
      fetch: async (req: Request) => closingResponse(await fetch(req)),
    });
    return {
      port: s.port,
      hostname,
      close: () => {
        s.stop(true);
        return Promise.resolve();
      },
    };
  }
  if (g.Deno) {
    const s = await serveDeno(fetch, { port, hostname, headerTimeoutMs, idleTimeoutMs: idleTimeoutS * 1000 });
    return { port: s.port, hostname, close: () => s.close() };
  }
  throw new LikenessError(
    "UNSUPPORTED",
    "serveFetch needs Deno or Bun; on other runtimes use app.fetch with your server",
  );
}
