/**
 * Serve a fetch handler under Deno with the connection deadlines that `Deno.serve` lacks: a
 * connection must finish its request headers within `headerTimeoutMs` of being accepted (a
 * slowloris that sends a header byte a second is cut, not only one that stalls), and after each
 * response it must finish the next request's headers within `idleTimeoutMs` or be closed (an idle
 * keep-alive connection is closed at that bound). An edge file, like `runtime_serve.ts`.
 *
 * How: our own accept loop (`Deno.listen`) hands each connection to Deno's HTTP server with
 * `serveHttpOnConnection`, the function `Deno.serve` itself runs per listener, reached through
 * `Deno[Deno.internal]` (not a public API: checked at start; Deno 2.9 is pinned in package.json).
 * A request reaching the handler disarms its connection's deadline; the deadline aborts that
 * connection's signal, which makes Deno close it. `node:http` under Deno was tried first: it has no
 * header timeout either, and our own Request/Response bridge over it cost 80 µs of CPU per request
 * against 6 µs for `Deno.serve` (measured on a hello-world handler).
 *
 * @module
 */

type Fetch = (req: Request) => Response | Promise<Response>;
type ServeOn = (
  conn: unknown,
  signal: AbortSignal,
  handler: (req: Request, info: { completed: Promise<void> }) => Promise<Response>,
  onError: (e: unknown) => Response,
  onListen: (scheme: string) => void,
) => { finished: Promise<void> };

interface DenoNet {
  listen(o: { port: number; hostname: string; transport: "tcp" }): AsyncIterable<unknown> & {
    addr: { port: number };
    close(): void;
  };
  serve(o: unknown, h: Fetch): { addr: { port: number }; shutdown(): Promise<void> };
  internal: symbol;
  [k: symbol]: { serveHttpOnConnection?: ServeOn } | undefined;
}

/** Statuses whose request body was not read: the connection is closed after them, never drained. */
export const CLOSE_AFTER: ReadonlySet<number> = new Set([408, 413]);

/**
 * How long after such an answer a Deno connection is closed. Not at once, and without
 * `connection: close` (on which Deno closes at once): a socket closed with unread input (the rest of
 * a refused body) is reset, and a reset erased the 413 before the client read it in 2 of 6 tries.
 */
const CLOSE_GRACE_MS = 1000;

/**
 * Bun: a 408 (a body that stopped arriving) with `connection: close` added, on which Bun closes the
 * connection after the answer. Not a 413: Bun then closes at once while the client is still
 * sending, and the reset erased the 413 before the client read it (3 of 3 tries); Bun drains and
 * discards the rest of a refused body instead.
 */
export function closingResponse(res: Response): Response {
  if (res.status !== 408) return res;
  const headers = new Headers(res.headers);
  headers.set("connection", "close");
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

const INTERNAL_ERROR = () =>
  new Response('{"error":{"code":"INTERNAL","message":"Internal error; see the server log"}}', {
    status: 500,
    headers: { "content-type": "application/json" },
  });

/**
 * Serve `fetch` on `hostname:port` under Deno with header and idle deadlines.
 *
 * @param fetch the handler
 * @param options port, hostname and the deadlines (milliseconds)
 * @returns the bound port, whether the deadlines are enforced, and a close function
 */
export function serveDeno(
  fetch: Fetch,
  options: { port: number; hostname: string; headerTimeoutMs: number; idleTimeoutMs: number },
): Promise<{ port: number; deadlines: boolean; close(): Promise<void> }> {
  const D = (globalThis as unknown as { Deno: DenoNet }).Deno;
  const serveOn = D[D.internal]?.serveHttpOnConnection;
  if (typeof serveOn !== "function") {
    // A Deno without the internal: serve, but say what is not enforced.
    console.warn(
      "likeness: this Deno has no serveHttpOnConnection: slow headers and idle connections are not timed out " +
        "(bodies still are); put a reverse proxy in front",
    );
    return new Promise((resolve) => {
      const s = D.serve({
        port: options.port,
        hostname: options.hostname,
        onListen: ({ port }: { port: number }) => resolve({ port, deadlines: false, close: () => s.shutdown() }),
      }, async (req) => closingResponse(await fetch(req)));
    });
  }
  const { headerTimeoutMs, idleTimeoutMs } = options;
  const listener = D.listen({ port: options.port, hostname: options.hostname, transport: "tcp" });
  const open = new Set<{ ac: AbortController; finished: Promise<void> }>();
  const accept = async () => {
    try {
      for await (const conn of listener) {
        const ac = new AbortController();
        let timer = setTimeout(() => ac.abort(), headerTimeoutMs);
        let inflight = 0;
        const handler = async (req: Request, info: { completed: Promise<void> }) => {
          clearTimeout(timer);
          inflight++;
          let res: Response;
          try {
            res = await fetch(req);
          } catch {
            res = INTERNAL_ERROR();
          }
          const closing = CLOSE_AFTER.has(res.status);
          info.completed.catch(() => {}).finally(() => {
            if (--inflight > 0 || ac.signal.aborted) return;
            clearTimeout(timer);
            timer = setTimeout(() => ac.abort(), closing ? CLOSE_GRACE_MS : idleTimeoutMs);
          });
          return res;
        };
        const entry = { ac, finished: Promise.resolve() };
        entry.finished = serveOn(conn, ac.signal, handler, INTERNAL_ERROR, () => {}).finished
          .catch(() => {})
          .finally(() => {
            clearTimeout(timer);
            open.delete(entry);
          });
        open.add(entry);
      }
    } catch {
      // The listener was closed.
    }
  };
  const loop = accept();
  return Promise.resolve({
    port: listener.addr.port,
    deadlines: true,
    close: async () => {
      listener.close();
      await loop;
      const all = [...open];
      for (const e of all) e.ac.abort();
      await Promise.all(all.map((e) => e.finished));
    },
  });
}
