// Video jobs end to end against the fake D-ID: queued -> processing -> done, long-poll, list, cancel.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVideoHarness, KEY_A, textVideo, type VideoHarness } from "../testutil/video-harness.js";

let h: VideoHarness;
beforeAll(async () => {
  h = await createVideoHarness();
});
afterAll(async () => {
  await h?.close();
});

describe("POST /v1/videos", () => {
  it("answers 202 with a durable queued job, then renders it to done with a result URL", async () => {
    const { response, body } = await h.video.create(textVideo());
    expect(response.status).toBe(202);
    expect(response.headers.get("location")).toBe(`/v1/videos/${body.id}`);
    expect(body).toMatchObject({ status: "queued", priority: "normal", talkId: null, error: null });
    const [[row]] = (await h.pool.query("SELECT status FROM video_jobs WHERE id = ?", [
      body.id,
    ])) as unknown as [[{ status: string }]];
    expect(row.status).toMatch(/^(queued|submitting|processing|done)$/);

    const done = await h.video.until(body.id, ["done"]);
    expect(done.talkId).toMatch(/^tlk_/);
    expect(done.resultUrl).toContain(`/__fake/results/${done.talkId}`);
    expect(done.duration).toBeGreaterThan(0);
    expect(new Date(done.resultExpiresAt as string).getTime()).toBeGreaterThan(Date.now() + 3_600_000);
    expect(done.attempts).toBe(1);
    const stats = h.video.fake.stats();
    expect(stats.talksByUserData[body.id]).toBe(1);
    expect(stats.creditsCharged).toBeGreaterThanOrEqual(1);
  });

  it("sends the script, voice and config to D-ID as its wire format", async () => {
    const { body } = await h.video.create(
      textVideo("Hello from the registrar's office.", {
        script: { text: "Hello from the registrar's office.", voice: "en-US-JennyNeural" },
        config: { fluent: true, padAudio: 1 },
      }),
    );
    const done = await h.video.until(body.id, ["done"]);
    const talk = h.video.fake.talk(done.talkId as string) as Record<string, unknown>;
    expect(talk).toMatchObject({
      user_data: body.id,
      config: expect.objectContaining({ fluent: true, pad_audio: 1 }),
    });
  });
});

describe("GET /v1/videos/{id} with Prefer: wait", () => {
  it("holds the answer until the job changes, and says the preference was applied", async () => {
    h.video.fake.setBehavior({ queueMs: 600, renderMs: 300 });
    try {
      const { body } = await h.video.create(textVideo());
      const started = Date.now();
      const { response, body: later } = await h.video.get(body.id, KEY_A, { prefer: "wait=10" });
      expect(response.headers.get("preference-applied")).toBe("wait=10");
      expect(later.status).not.toBe("queued");
      expect(Date.now() - started).toBeLessThan(10_000);
      await h.video.until(body.id, ["done"]);
    } finally {
      h.video.fake.setBehavior({ queueMs: 40, renderMs: 80 });
    }
  });
});

describe("GET /v1/videos", () => {
  it("lists the caller's jobs newest first with a cursor, filtered by status", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await h.video.create(textVideo(`Course number ${i} welcome.`))).body.id);
    const first = await h.request("/v1/videos?limit=2", { headers: h.video.auth() });
    const page1 = (await first.json()) as { results: { id: string }[]; nextCursor: string };
    expect(page1.results.map((r) => r.id)).toEqual([ids[2], ids[1]]);
    const second = await h.request(`/v1/videos?limit=2&cursor=${page1.nextCursor}`, {
      headers: h.video.auth(),
    });
    const page2 = (await second.json()) as { results: { id: string }[] };
    expect(page2.results[0]?.id).toBe(ids[0]);
    for (const id of ids) await h.video.until(id, ["done"]);
    const done = await h.request("/v1/videos?status=done&limit=100", { headers: h.video.auth() });
    const all = (await done.json()) as { results: { id: string; status: string }[] };
    expect(all.results.every((r) => r.status === "done")).toBe(true);
    expect(all.results.map((r) => r.id)).toEqual(expect.arrayContaining(ids));
  });
});

describe("DELETE /v1/videos/{id}", () => {
  it("cancels a queued job, which is then never sent to D-ID; a finished job cannot be canceled", async () => {
    // Hold every render slot so the next job stays queued.
    const slots = await Promise.all(
      Array.from({ length: h.config.D_ID_MAX_CONCURRENCY }, () => h.services.videos.renders?.slot()),
    );
    try {
      const { body } = await h.video.create(textVideo());
      const response = await h.request(`/v1/videos/${body.id}`, {
        method: "DELETE",
        headers: h.video.auth(),
      });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { status: string }).status).toBe("canceled");
      for (const slot of slots.splice(0)) slot?.release();
      const other = await h.video.create(textVideo());
      await h.video.until(other.body.id, ["done"]);
      expect(h.video.fake.stats().talksByUserData[body.id]).toBeUndefined();
      const again = await h.request(`/v1/videos/${other.body.id}`, {
        method: "DELETE",
        headers: h.video.auth(),
      });
      expect(again.status).toBe(409);
      expect(((await again.json()) as { code: string }).code).toBe("video_not_cancelable");
    } finally {
      for (const slot of slots) slot?.release();
    }
  });
});
