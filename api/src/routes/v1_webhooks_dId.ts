// POST /v1/webhooks/d-id/{secret}: D-ID's completion webhook. It carries no signature (research §6),
// so it is only a hint: the job's runner re-reads the talk from D-ID before trusting anything.
import { timingSafeEqual } from "node:crypto";
import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../app.js";
import { ProblemError } from "../errors.js";

const dIdWebhookRoute = createRoute({
  method: "post",
  path: "/v1/webhooks/d-id/{secret}",
  tags: ["videos"],
  summary: "D-ID completion webhook (called by D-ID)",
  request: { params: z.object({ secret: z.string().max(200) }) },
  responses: {
    202: {
      description: "Noted; the talk will be re-read from D-ID",
      content: { "application/json": { schema: z.object({ received: z.boolean() }) } },
    },
    404: { description: "Unknown webhook" },
  },
});

function sameSecret(given: string, expected: string | undefined): boolean {
  if (!expected) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function registerV1WebhooksDId(app: App) {
  app.openapi(dIdWebhookRoute, async (c) => {
    const { videos, metrics } = c.get("services");
    // A wrong secret looks like no route at all.
    if (!videos.provider || !sameSecret(c.req.valid("param").secret, videos.webhookSecret))
      throw new ProblemError(404, "route_not_found", `No route for POST ${c.req.path}`);
    let talk: { id?: unknown; user_data?: unknown } = {};
    try {
      talk = JSON.parse(await c.req.text());
    } catch {
      // A body we cannot read is a stray: nothing to do.
    }
    const job =
      typeof talk.id === "string"
        ? await videos.jobs.findByTalk(talk.id)
        : typeof talk.user_data === "string"
          ? await videos.jobs.get(talk.user_data)
          : undefined;
    metrics.dIdWebhooks.inc({ result: job ? "hint" : "stray" });
    if (job) videos.events.hint(job.id);
    return c.json({ received: true }, 202);
  });
}
