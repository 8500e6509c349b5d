// Per-request bookkeeping: request id, timing headers, cache header, metrics and the access log.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Context, MiddlewareHandler } from "hono";
import type { HonoEnv } from "../context.js";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Status recorded for a request whose client left before the answer (nginx's convention). */
export const CLIENT_CLOSED = 499;

/**
 * Whether the client has gone before we answered: its connection closed (reset, or closed while a long
 * poll waited) or it shut its sending side, which Node turns into an aborted request and a closing
 * socket. Only under Node, where these are property reads; through app.request a client cannot leave.
 */
export function clientDisconnected(c: Context): boolean {
  const { incoming, outgoing } = (c.env ?? {}) as { incoming?: IncomingMessage; outgoing?: ServerResponse };
  if (!outgoing || outgoing.writableFinished) return false;
  // No socket yet is a pipelined request waiting its turn, not a departure.
  const socket = outgoing.socket;
  return (
    outgoing.destroyed ||
    (incoming?.errored ?? null) !== null ||
    socket?.destroyed === true ||
    socket?.writableEnded === true
  );
}

export function requestContext(): MiddlewareHandler<HonoEnv> {
  return async (c, next) => {
    const started = performance.now();
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    c.set("requestId", requestId);
    c.set("timings", []);
    await next();
    const ms = performance.now() - started;
    const { metrics, logger } = c.get("services");
    // c.res.headers.set, not c.header: after next() c.header rebuilds the whole Response (measured 2-3x slower).
    const headers = c.res.headers;
    headers.set("X-Request-Id", requestId);
    headers.set("X-Process-Time", ms.toFixed(2));
    const stages = c
      .get("timings")
      .map((t) => `${t.name};dur=${t.ms.toFixed(2)}${t.desc ? `;desc="${t.desc}"` : ""}`);
    headers.set("Server-Timing", [...stages, `total;dur=${ms.toFixed(2)}`].join(", "));
    const cache = c.get("cacheStatus");
    if (cache) headers.set("X-Cache", cache === "miss" ? "MISS" : `HIT; tier=${cache}`);
    const route = c.res.status === 404 && c.req.routePath === "/*" ? "unmatched" : c.req.routePath;
    // An impatient client is not a server error: it is counted apart and never as a 5xx.
    const status = clientDisconnected(c) ? CLIENT_CLOSED : c.res.status;
    metrics.httpDuration.observe({ method: c.req.method, route, status }, ms / 1000);
    logger.debug({ requestId, method: c.req.method, path: c.req.path, status, ms }, "request");
  };
}
