/**
 * Start a fetch handler on a TCP port under Deno (`Deno.serve`) or Bun (`Bun.serve`).
 * This is an edge of the system: it is the only server file that touches runtime globals.
 *
 * @module
 */
import { LikenessError } from "@likeness/core";

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

/**
 * Serve `fetch` on `hostname:port` (port 0 picks a free one).
 *
 * @param fetch the handler (e.g. `app.fetch`)
 * @param options port, hostname (default 127.0.0.1), and `idleTimeoutS`: Bun closes a connection
 *   that is idle or still sending its headers after this many seconds [30]; Deno.serve has no such
 *   setting (request bodies are timed out by the app in both runtimes)
 * @returns the running server
 * @throws {LikenessError} UNSUPPORTED outside Deno and Bun
 * @example
 * ```ts
 * import { serveFetch } from "@likeness/server";
 * const s = await serveFetch(() => new Response("ok"), { port: 0 });
 * await s.close();
 * ```
 */
export function serveFetch(
  fetch: Fetch,
  options: { port?: number; hostname?: string; idleTimeoutS?: number } = {},
): Promise<RunningServer> {
  const hostname = options.hostname ?? "127.0.0.1";
  const port = options.port ?? 0;
  const g = globalThis as unknown as {
    Bun?: { serve(o: unknown): { port: number; stop(force?: boolean): void } };
    Deno?: {
      serve(o: unknown, h: Fetch): { addr: { port: number }; shutdown(): Promise<void> };
    };
  };
  if (g.Bun) {
    const s = g.Bun.serve({ port, hostname, fetch, idleTimeout: options.idleTimeoutS ?? 30 });
    return Promise.resolve({
      port: s.port,
      hostname,
      close: () => {
        s.stop(true);
        return Promise.resolve();
      },
    });
  }
  if (g.Deno) {
    return new Promise((resolve) => {
      const s = g.Deno!.serve({
        port,
        hostname,
        onListen: ({ port }: { port: number }) => resolve({ port, hostname, close: () => s.shutdown() }),
      }, fetch);
    });
  }
  throw new LikenessError(
    "UNSUPPORTED",
    "serveFetch needs Deno or Bun; on other runtimes use app.fetch with your server",
  );
}
