// Every D-ID failure gives its documented outcome, and bad input gets a 400 naming the field.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness } from "../testutil/harness.js";
import { createVideoHarness, textVideo, type VideoHarness } from "../testutil/video-harness.js";

let h: VideoHarness;
beforeAll(async () => {
  h = await createVideoHarness({ env: { D_ID_MAX_ATTEMPTS: "3", D_ID_ATTEMPT_TIMEOUT_MS: "800" } });
});
afterAll(async () => {
  await h?.close();
});

const calls = (route: string) => h.video.fake.stats().calls[route] ?? 0;

async function runWith(createTalkSteps: unknown[], body: object = textVideo()) {
  h.video.fake.setBehavior({ routes: { createTalk: { sequence: createTalkSteps as never } } });
  const before = calls("POST /talks");
  const { body: job } = await h.video.create(body);
  const end = await h.video.until(job.id, ["done", "failed", "rejected"]);
  return {
    end,
    posts: calls("POST /talks") - before,
    talks: h.video.fake.stats().talksByUserData[job.id] ?? 0,
  };
}

describe("D-ID refusals end the job without a retry", () => {
  it.each([
    [401, "upstream_misconfigured"],
    [403, "upstream_misconfigured"],
    [402, "insufficient_credits"],
    [400, "invalid_request"],
  ])("%i -> failed %s, POST /talks sent once", async (status, code) => {
    const { end, posts, talks } = await runWith([status]);
    expect(end).toMatchObject({ status: "failed", error: { code } });
    expect(posts).toBe(1);
    expect(talks).toBe(0);
  });

  it("451 -> rejected with D-ID's reason", async () => {
    const { end, posts } = await runWith([451]);
    expect(end.status).toBe("rejected");
    expect(end.error?.code).toBe("content_rejected");
    expect(end.error?.detail).toMatch(/moderation/i);
    expect(posts).toBe(1);
  });
});

describe("transient D-ID failures", () => {
  it("retries 5xx and fails the job after the last attempt, looking for the talk before each retry", async () => {
    const lists = calls("GET /talks");
    const { end, posts, talks } = await runWith([500, 502, 503]);
    expect(end).toMatchObject({ status: "failed", error: { code: "upstream_error" } });
    expect(posts).toBe(3);
    expect(talks).toBe(0);
    expect(calls("GET /talks") - lists).toBeGreaterThanOrEqual(2);
  });

  it("recovers when a 5xx is followed by success", async () => {
    const { end, posts, talks } = await runWith([500, "ok"]);
    expect(end.status).toBe("done");
    expect(posts).toBe(2);
    expect(talks).toBe(1);
  });

  it("honours 429 Retry-After before sending again", async () => {
    const started = Date.now();
    const { end, posts, talks } = await runWith([{ status: 429, retryAfterSeconds: 1 }, "ok"]);
    expect(end.status).toBe("done");
    expect(posts).toBe(2);
    expect(talks).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  });

  it("retries a 429 without Retry-After on its own backoff", async () => {
    const { end, posts } = await runWith([429, "ok"]);
    expect(end.status).toBe("done");
    expect(posts).toBe(2);
  });

  it.each(["hang", "drop"])(
    "a POST /talks that %ss after D-ID created the talk is reconciled, never sent twice",
    async (step) => {
      const { end, posts, talks } = await runWith([step]);
      expect(end.status).toBe("done");
      expect(posts).toBe(1);
      expect(talks).toBe(1);
    },
  );

  it("a connection dropped before D-ID saw the request is simply sent again", async () => {
    const { end, posts, talks } = await runWith(["drop-before", "ok"]);
    expect(end.status).toBe("done");
    expect(posts).toBe(2);
    expect(talks).toBe(1);
  });

  it("keeps polling through failing status reads", async () => {
    h.video.fake.setBehavior({ routes: { getTalk: { sequence: [500, 500, 500, 500, "drop"] } } });
    const { end } = await runWith([]);
    expect(end.status).toBe("done");
  });
});

describe("talks that end badly at D-ID", () => {
  it("an `error` talk fails the job with D-ID's kind, and is not billed", async () => {
    const charged = h.video.fake.stats().creditsCharged;
    const { end } = await runWith([], textVideo("This talk will [[error]] at D-ID."));
    expect(end).toMatchObject({ status: "failed", talkStatus: "error", error: { code: "render_failed" } });
    expect(end.error?.detail).toMatch(/FaceError/);
    expect(h.video.fake.stats().creditsCharged).toBe(charged);
  });

  it("a `rejected` talk ends the job rejected", async () => {
    const { end } = await runWith([], textVideo("This talk will be [[rejected]] by moderation."));
    expect(end).toMatchObject({
      status: "rejected",
      talkStatus: "rejected",
      error: { code: "content_rejected" },
    });
  });
});

describe("bad input", () => {
  it("lists every bad field", async () => {
    const { response, body } = await h.video.create({
      sourceUrl: "ftp://x/y.gif",
      priority: "urgent",
      extra: 1,
    });
    expect(response.status).toBe(400);
    expect(body.code).toBe("validation_failed");
    const fields = body.errors?.map((e) => e.field) ?? [];
    expect(fields).toEqual(expect.arrayContaining(["sourceUrl", "priority", "extra", "script"]));
  });

  it("refuses two sources, a too-short script and an upload id the caller does not own", async () => {
    const both = await h.video.create({ ...textVideo(), sourceImageId: "img1" });
    expect(both.response.status).toBe(400);
    expect(both.body.errors?.[0]?.field).toBe("sourceUrl");
    const short = await h.video.create(textVideo("hi"));
    expect(short.body.errors?.[0]?.field).toBe("script.text");
    const foreign = await h.video.create({ sourceImageId: "not-mine", script: { text: "Hello there" } });
    expect(foreign.response.status).toBe(400);
    expect(foreign.body.errors?.[0]).toMatchObject({ field: "sourceImageId" });
  });

  it("refuses an over-long Idempotency-Key", async () => {
    const { response, body } = await h.video.create(textVideo(), { "idempotency-key": "k".repeat(256) });
    expect(response.status).toBe(400);
    expect(body.errors?.[0]?.field).toBe("Idempotency-Key");
  });
});

describe("without D_ID_API_KEY", () => {
  it("every video route answers 503 video_unconfigured, and /health says so", async () => {
    const bare = await createHarness({ env: { VIDEO_API_KEYS: "k-0123456789abcdef" } });
    try {
      const auth = { authorization: "Bearer k-0123456789abcdef" };
      for (const [method, path] of [
        ["POST", "/v1/videos"],
        ["GET", "/v1/videos"],
        ["GET", "/v1/videos/vid_00000000000000000000000000"],
        ["POST", "/v1/videos/uploads/images"],
        ["GET", "/api/d_id_optimized/stats"],
        ["GET", "/api/d_id_optimized/health"],
        ["POST", "/api/d_id_optimized/generate-video"],
      ] as const) {
        const response = await bare.request(path, {
          method,
          headers: auth,
          ...(method === "POST" ? { json: {} } : {}),
        });
        expect(response.status, `${method} ${path}`).toBe(503);
        expect(((await response.json()) as { code: string }).code).toBe("video_unconfigured");
      }
      const health = (await (await bare.request("/health")).json()) as { videos: string };
      expect(health.videos).toBe("unconfigured");
    } finally {
      await bare.close();
    }
  });
});
