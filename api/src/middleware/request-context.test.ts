// A client that leaves before its answer is recorded as 499 (never a 5xx, never the status the handler
// produced for nobody), whether it resets the connection or only shuts its sending side. The handler
// answers only once the server has seen the client leave, so the test does not depend on timing.
import type { IncomingMessage, ServerResponse } from "node:http";
import { connect } from "node:net";
import { createLogger } from "@kogi/shared/logger";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HonoEnv, ServiceContext } from "../context.js";
import { Metrics } from "../observability/metrics.js";
import { listen } from "../testutil/video-harness.js";
import { requestContext } from "./request-context.js";

const metrics = new Metrics();
let server: Awaited<ReturnType<typeof listen>>;
let port = 0;

/** Resolves once Node has seen the client go: its request aborted or the response's connection closed. */
function clientLeft(c: { env: unknown }): Promise<void> {
  const { incoming, outgoing } = c.env as { incoming: IncomingMessage; outgoing: ServerResponse };
  return new Promise((resolve) => {
    incoming.once("aborted", resolve);
    incoming.once("error", () => resolve());
    outgoing.once("close", resolve);
  });
}

beforeAll(async () => {
  const app = new Hono<HonoEnv>();
  const services = { metrics, logger: createLogger("silent", "test") } as unknown as ServiceContext;
  app.use("*", async (c, next) => {
    c.set("services", services);
    await next();
  });
  app.use("*", requestContext());
  app.get("/quick", (c) => c.json({ ok: true }));
  app.get("/waits-for-departure", async (c) => {
    await clientLeft(c);
    return c.json({ answer: "for nobody" });
  });
  server = await listen(app);
  port = Number(new URL(server.url).port);
});

afterAll(async () => {
  await server?.close();
});

async function recorded(path: string): Promise<Record<string, number>> {
  const metric = await metrics.httpDuration.get();
  const counts: Record<string, number> = {};
  for (const value of metric.values)
    if (value.metricName?.endsWith("_count") && value.labels.route === path)
      counts[String(value.labels.status)] = value.value;
  return counts;
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Sends a GET on a raw socket, then leaves as told once the request is on the wire. */
function leaveAfterRequest(path: string, how: "reset" | "half-close"): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, () => {
        if (how === "reset") socket.resetAndDestroy();
        else socket.end();
      });
    });
    socket.on("data", () => undefined);
    socket.on("error", () => undefined);
    socket.on("close", () => resolve());
    socket.on("timeout", () => reject(new Error("socket timed out")));
  });
}

describe("a client that goes away", () => {
  it.each([
    ["resets the connection mid-answer", "reset"],
    ["only shuts its sending side (a long poll given up)", "half-close"],
  ] as const)("is recorded as 499 when it %s", async (_, how) => {
    const before = (await recorded("/waits-for-departure"))["499"] ?? 0;
    await leaveAfterRequest("/waits-for-departure", how);
    const counts = await until(
      () => recorded("/waits-for-departure"),
      (c) => (c["499"] ?? 0) > before,
    );
    expect(counts["499"]).toBe(before + 1);
    expect(counts["200"]).toBeUndefined();
  });

  it("leaves a request the client stayed for as it was", async () => {
    const response = await fetch(`${server.url}/quick`);
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    expect(await recorded("/quick")).toEqual({ "200": 1 });
  });
});
