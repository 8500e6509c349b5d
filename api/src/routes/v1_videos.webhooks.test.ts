// Completion by D-ID's webhook (with polling only as a slow fallback), the caller's signed webhook with
// retries, and result_url refreshed from D-ID once the stored one is near its expiry.
import { createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, waitFor } from "../testutil/redis-server.js";
import { createVideoHarness, listen, textVideo, type VideoHarness } from "../testutil/video-harness.js";

const SECRET = "d-id-hook-secret-0123456789";
const SIGNING = "test-signing-secret-0123456789";
let h: VideoHarness;
let api: Awaited<ReturnType<typeof listen>>;

beforeAll(async () => {
  const port = await freePort();
  h = await createVideoHarness({
    env: {
      D_ID_WEBHOOK_BASE_URL: `http://127.0.0.1:${port}`,
      D_ID_WEBHOOK_SECRET: SECRET,
      // Polling this slowly cannot finish a job within the test's waits: only D-ID's webhook can.
      D_ID_POLL_INITIAL_MS: "60000",
      D_ID_POLL_MAX_MS: "60000",
      VIDEO_WEBHOOK_SIGNING_SECRET: SIGNING,
    },
  });
  api = await listen(h.app, port);
});
afterAll(async () => {
  await api?.close();
  await h?.close();
});

describe("D-ID's webhook", () => {
  it("finishes the job as soon as D-ID calls back; duplicate and stale deliveries change nothing", async () => {
    h.video.fake.setBehavior({ webhook: { duplicates: 2, staleAfterFinal: true } });
    const hints = () =>
      h.services.metrics.dIdWebhooks.get().then((m) => m.values.reduce((n, v) => n + v.value, 0));
    const before = await hints();
    const { body } = await h.video.create(textVideo());
    const done = await h.video.until(body.id, ["done"], 10_000);
    expect(done.talkId).toMatch(/^tlk_/);
    await waitFor(async () => (await hints()) >= before + 4, "the duplicate and stale webhooks", 10_000);
    const again = await h.video.get(body.id);
    expect(again.body).toMatchObject({
      status: "done",
      resultUrl: done.resultUrl,
      finishedAt: done.finishedAt,
    });
    expect(h.video.fake.stats().talksByUserData[body.id]).toBe(1);
  });
});

describe("the caller's webhookUrl", () => {
  let receiver: Server;
  const received: { headers: IncomingMessage["headers"]; body: string }[] = [];
  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => {
        body += chunk;
      });
      req.on("end", () => {
        received.push({ headers: req.headers, body });
        // The first delivery fails: Kogi must retry.
        res.writeHead(received.length === 1 ? 500 : 204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => receiver.close(resolve));
  });

  it("gets the final job, signed with HMAC-SHA256, retried until accepted", async () => {
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/video`;
    const { body } = await h.video.create(textVideo("Signed callbacks, please.", { webhookUrl: url }));
    await waitFor(() => received.length >= 2, "two webhook deliveries", 15_000);
    for (const delivery of received) {
      const signature = String(delivery.headers["kogi-signature"]);
      const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(signature) ?? [];
      expect(v1).toBe(createHmac("sha256", SIGNING).update(`${t}.${delivery.body}`).digest("hex"));
      const event = JSON.parse(delivery.body) as { type: string; data: { id: string; status: string } };
      expect(event).toMatchObject({ type: "video.done", data: { id: body.id, status: "done" } });
    }
    expect(received[1]?.headers["kogi-delivery"]).toBe(`${body.id}.2`);
    await waitFor(async () => (await h.video.get(body.id)).body.webhook?.state === "sent", "state sent");
    expect((await h.video.get(body.id)).body.webhook).toEqual({ url, state: "sent", attempts: 2 });
  });
});

describe("result_url", () => {
  it("is re-read from D-ID when the stored one is near its expiry", async () => {
    h.video.fake.setBehavior({ resultTtlMs: 1_000 });
    try {
      const { body } = await h.video.create(textVideo());
      const done = await h.video.until(body.id, ["done"], 10_000);
      const stored = done.resultUrl as string;
      await waitFor(
        async () => (await fetch(stored)).status === 403,
        "the stored result_url to expire",
        5_000,
      );
      const fresh = (await h.video.get(body.id)).body.resultUrl as string;
      expect(fresh).not.toBe(stored);
      const video = await fetch(fresh);
      expect(video.status).toBe(200);
      expect(
        Buffer.from(await video.arrayBuffer())
          .subarray(4, 8)
          .toString(),
      ).toBe("ftyp");
    } finally {
      h.video.fake.setBehavior({ resultTtlMs: 86_400_000 });
    }
  });
});
