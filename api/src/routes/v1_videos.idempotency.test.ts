// Idempotency-Key (Stripe's semantics): a retried POST /v1/videos never creates, or pays for, a second talk.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVideoHarness, KEY_B, textVideo, type VideoHarness } from "../testutil/video-harness.js";

let h: VideoHarness;
beforeAll(async () => {
  h = await createVideoHarness();
});
afterAll(async () => {
  await h?.close();
});

describe("Idempotency-Key", () => {
  it("50 concurrent requests with one key create exactly one job and one talk", async () => {
    const key = `concurrent-${Date.now()}`;
    const body = textVideo("Fifty clients, one video.");
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => h.video.create(body, { "idempotency-key": key })),
    );
    const statuses = answers.map((a) => a.response.status);
    expect(statuses.every((s) => s === 202 || s === 409)).toBe(true);
    const accepted = answers.filter((a) => a.response.status === 202);
    const ids = new Set(accepted.map((a) => a.body.id));
    expect(ids.size).toBe(1);
    const fresh = accepted.filter((a) => a.response.headers.get("idempotent-replayed") !== "true");
    expect(fresh).toHaveLength(1);
    for (const busy of answers.filter((a) => a.response.status === 409)) {
      expect(busy.body.code).toBe("idempotency_key_in_use");
      expect(busy.response.headers.get("retry-after")).toBe("1");
    }
    const [id] = ids;
    await h.video.until(id as string, ["done"]);
    // A retry after the job finished still replays the first answer (the 202 with the queued job).
    const replay = await h.video.create(body, { "idempotency-key": key });
    expect(replay.response.status).toBe(202);
    expect(replay.response.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.response.headers.get("location")).toBe(`/v1/videos/${id}`);
    expect(replay.body).toEqual(fresh[0]?.body);
    const [[count]] = (await h.pool.query("SELECT COUNT(*) AS n FROM video_jobs")) as unknown as [
      [{ n: number }],
    ];
    expect(Number(count.n)).toBe(1);
    expect(h.video.fake.stats().talksByUserData[id as string]).toBe(1);
    expect(h.video.fake.stats().talksCreated).toBe(1);
  });

  it("the same key with different parameters is refused with 422; the same parameters reordered replay", async () => {
    const key = `reuse-${Date.now()}`;
    const first = await h.video.create(textVideo("Original script text."), { "idempotency-key": key });
    expect(first.response.status).toBe(202);
    const other = await h.video.create(textVideo("A different script."), { "idempotency-key": key });
    expect(other.response.status).toBe(422);
    expect(other.body.code).toBe("idempotency_key_reused");
    const reordered = await h.video.create(
      { script: { text: "Original script text." }, sourceUrl: "https://example.edu/photos/lecturer.jpg" },
      { "idempotency-key": key },
    );
    expect(reordered.response.headers.get("idempotent-replayed")).toBe("true");
    expect(reordered.body.id).toBe(first.body.id);
  });

  it("a request that failed validation is not stored: the key stays free", async () => {
    const key = `invalid-${Date.now()}`;
    const bad = await h.video.create({ script: { text: "no source" } }, { "idempotency-key": key });
    expect(bad.response.status).toBe(400);
    const good = await h.video.create(textVideo(), { "idempotency-key": key });
    expect(good.response.status).toBe(202);
    expect(good.response.headers.get("idempotent-replayed")).toBeNull();
  });

  it("keys are per API key: another caller's identical key is a new request", async () => {
    const key = `shared-${Date.now()}`;
    const a = await h.video.create(textVideo(), { "idempotency-key": key });
    const b = await h.video.create(textVideo(), { "idempotency-key": key }, KEY_B);
    expect(a.response.status).toBe(202);
    expect(b.response.status).toBe(202);
    expect(b.body.id).not.toBe(a.body.id);
    expect(b.response.headers.get("idempotent-replayed")).toBeNull();
  });
});
