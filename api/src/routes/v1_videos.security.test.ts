// Video routes are paid: they need an accepted key, a job is visible only to its key, and D-ID's
// unsigned webhook can only hint, never decide.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVideoHarness, KEY_B, textVideo, type VideoHarness } from "../testutil/video-harness.js";

const SECRET = "webhook-secret-0123456789abcdef";
let h: VideoHarness;
beforeAll(async () => {
  h = await createVideoHarness({
    env: { D_ID_WEBHOOK_BASE_URL: "https://kogi.example.edu", D_ID_WEBHOOK_SECRET: SECRET },
  });
});
afterAll(async () => {
  await h?.close();
});

describe("API keys", () => {
  it("401 without a key or with a wrong one, on every video route and the legacy ones", async () => {
    const attempts: Record<string, string>[] = [
      {},
      { authorization: "Bearer not-a-key" },
      { authorization: "Basic abc" },
    ];
    for (const headers of attempts) {
      for (const path of [
        "/v1/videos",
        "/v1/videos/vid_00000000000000000000000000",
        "/api/d_id_optimized/stats",
      ]) {
        const response = await h.request(path, { headers });
        expect(response.status, path).toBe(401);
        expect(response.headers.get("www-authenticate")).toMatch(/^Bearer/);
        expect(((await response.json()) as { code: string }).code).toBe("unauthorized");
      }
    }
    expect(h.video.fake.stats().talksCreated).toBe(0);
  });

  it("another key's job is a 404 to read, to cancel and to list, and its talk is not visible", async () => {
    const { body } = await h.video.create(textVideo());
    const read = await h.video.get(body.id, KEY_B);
    expect(read.response.status).toBe(404);
    expect(read.body.code).toBe("not_found");
    expect(read.body).not.toHaveProperty("talkId");
    const cancel = await h.request(`/v1/videos/${body.id}`, {
      method: "DELETE",
      headers: h.video.auth(KEY_B),
    });
    expect(cancel.status).toBe(404);
    const list = (await (await h.request("/v1/videos", { headers: h.video.auth(KEY_B) })).json()) as {
      results: { id: string }[];
    };
    expect(list.results.map((r) => r.id)).not.toContain(body.id);
    const done = await h.video.until(body.id, ["done"]);
    const status = await h.request(`/api/d_id_optimized/talk-status/${done.talkId}`, {
      headers: h.video.auth(KEY_B),
    });
    expect(status.status).toBe(404);
  });
});

describe("D-ID webhook", () => {
  it("a wrong secret is a 404, like no route at all", async () => {
    const response = await h.request("/v1/webhooks/d-id/wrong-secret-0123456789abc", {
      json: { id: "tlk_x" },
    });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { code: string }).code).toBe("route_not_found");
  });

  it("a spoofed 'done' body cannot mark a job done: the talk is re-read from D-ID", async () => {
    h.video.fake.setBehavior({ queueMs: 1_500, renderMs: 500 });
    try {
      const { body } = await h.video.create(textVideo());
      const processing = await h.video.until(body.id, ["processing"]);
      const spoof = await h.request(`/v1/webhooks/d-id/${SECRET}`, {
        json: {
          id: processing.talkId,
          status: "done",
          result_url: "https://evil.example/x.mp4",
          user_data: body.id,
        },
      });
      expect(spoof.status).toBe(202);
      const after = await h.video.get(body.id);
      expect(after.body.status).toBe("processing");
      expect(after.body.resultUrl).toBeNull();
      const done = await h.video.until(body.id, ["done"]);
      expect(done.resultUrl).not.toContain("evil");
    } finally {
      h.video.fake.setBehavior({ queueMs: 40, renderMs: 80 });
    }
  });

  it("strays and unreadable bodies are harmless", async () => {
    for (const payload of [{ id: "tlk_unknown" }, { user_data: "vid_nope" }, "not json"]) {
      const response = await h.request(`/v1/webhooks/d-id/${SECRET}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: typeof payload === "string" ? payload : JSON.stringify(payload),
      });
      expect(response.status).toBe(202);
    }
  });
});
