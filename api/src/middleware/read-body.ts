// Request bodies with a size cap. Under Node it reads the IncomingMessage directly and primes Hono's
// body cache: building a web Request/ReadableStream for every POST (what hono's bodyLimit and
// c.req.json() do) cost ~60% of cache-hit throughput in `npm run bench:search`. Elsewhere (tests
// through app.request, edge runtimes) it falls back to hono's own bodyLimit.
import type { IncomingMessage } from "node:http";
import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { HonoEnv } from "../context.js";
import { ProblemError } from "../errors.js";

/** `streamed`: path prefixes whose handlers read (and limit) their own bodies, e.g. multipart uploads. */
export function readBody(maxBytes: number, streamed: string[] = []): MiddlewareHandler<HonoEnv> {
  // The unread rest of a refused body would poison the next request on a keep-alive connection.
  const tooLarge = () =>
    new ProblemError(413, "body_too_large", `The request body exceeds ${maxBytes} bytes`, undefined, {
      Connection: "close",
    });
  const fallback = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw tooLarge();
    },
  });
  return async (c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD") return next();
    if (streamed.some((prefix) => c.req.path.startsWith(prefix))) return next();
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    if (!incoming) return fallback(c, next);
    if (Number(incoming.headers["content-length"] ?? 0) > maxBytes) throw tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of incoming as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) throw tooLarge();
      chunks.push(chunk);
    }
    // Hono keeps promises in bodyCache (its typing says string); c.req.json() parses this text.
    (c.req.bodyCache as Record<string, unknown>).text = Promise.resolve(
      Buffer.concat(chunks).toString("utf8"),
    );
    await next();
  };
}
