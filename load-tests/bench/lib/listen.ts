// Child side of the server children: listen on loopback like main.ts, announce the port, stop on request.
import type { Server } from "node:http";
import { serve } from "@hono/node-server";

type Fetch = (request: Request) => Response | Promise<Response>;

/** Same keep-alive settings as main.ts, so both servers treat autocannon's sockets alike. */
export function listenOnLoopback(fetch: Fetch, keepAliveTimeoutMs: number, onStop: () => Promise<void>) {
  const server = serve({ fetch, port: 0, hostname: "127.0.0.1" }, (info) =>
    process.stdout.write(`${JSON.stringify({ port: info.port })}\n`),
  ) as Server;
  server.keepAliveTimeout = keepAliveTimeoutMs;
  server.headersTimeout = keepAliveTimeoutMs + 1_000;

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    server.closeAllConnections();
    server.close();
    await onStop().catch(() => undefined);
    // process.exit (not a signal death) so --cpu-prof gets to write its profile.
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
  // The parent's IPC channel closing means the parent is gone: never outlive it.
  process.on("disconnect", () => void stop());
  return server;
}
