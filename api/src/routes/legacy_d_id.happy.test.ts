// The replaced router's routes answer in their old shapes; operations show the D-ID side.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVideoHarness, textVideo, type VideoHarness } from "../testutil/video-harness.js";

let h: VideoHarness;
beforeAll(async () => {
  h = await createVideoHarness();
});
afterAll(async () => {
  await h?.close();
});

describe("/api/d_id_optimized", () => {
  it("generate-video waits for the video and answers {id, status, result_url, created_at, message}", async () => {
    const response = await h.request("/api/d_id_optimized/generate-video", {
      json: {
        audio_url: "https://example.edu/audio/welcome.mp3",
        source_url: "https://example.edu/p.png",
        priority: "HIGH",
      },
      headers: h.video.auth(),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, string>;
    expect(body).toEqual({
      id: expect.stringMatching(/^tlk_/),
      status: "done",
      result_url: expect.stringContaining("/__fake/results/"),
      created_at: expect.any(String),
      message: "Video generated successfully",
    });
    const status = await h.request(`/api/d_id_optimized/talk-status/${body.id}`, { headers: h.video.auth() });
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({
      id: body.id,
      status: "done",
      result_url: expect.any(String),
    });
  });

  it("generate-video names the bad field in the old body", async () => {
    const response = await h.request("/api/d_id_optimized/generate-video", {
      json: { audio_url: "not-a-url", source_url: "https://example.edu/p.png" },
      headers: h.video.auth(),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: { field: string }[] };
    expect(body.errors.map((e) => e.field)).toContain("audioUrl");
  });

  it("stats and health keep the memo's shapes", async () => {
    const stats = await (await h.request("/api/d_id_optimized/stats", { headers: h.video.auth() })).json();
    expect(stats).toEqual({
      client: {
        api_key_configured: true,
        client_initialized: true,
        pool_limits: { max_connections: 10, max_keepalive: 10 },
      },
      rate_limiter: {
        backend: "redis",
        max_concurrent: 10,
        active_requests: expect.any(Number),
        available_slots: expect.any(Number),
        queue_size: expect.any(Number),
      },
    });
    const health = await (await h.request("/api/d_id_optimized/health", { headers: h.video.auth() })).json();
    expect(health).toMatchObject({ status: "healthy", api_key_configured: true, breaker: "closed" });
  });
});

describe("operations", () => {
  it("/ready shows the D-ID breaker, /v1/stats its limiters, /metrics jobs, limiter and webhooks", async () => {
    const { body } = await h.video.create(textVideo());
    await h.video.until(body.id, ["done"]);
    const ready = (await (await h.request("/ready")).json()) as {
      checks: Record<string, { ok: boolean; detail: string }>;
    };
    expect(ready.checks["upstream:d-id"]).toEqual({ ok: true, detail: "breaker closed" });
    const stats = (await (await h.request("/v1/stats")).json()) as {
      upstreams: { name: string; backend: string; available: number }[];
      videos: {
        configured: boolean;
        jobs: Record<string, number>;
        oldestQueuedSeconds: number;
        webhookDeliveries: object;
      };
    };
    const names = stats.upstreams.map((u) => u.name);
    expect(names).toEqual(expect.arrayContaining(["d-id", "d-id-renders"]));
    expect(stats.videos).toMatchObject({ configured: true, oldestQueuedSeconds: 0 });
    expect(stats.videos.jobs.done).toBeGreaterThanOrEqual(1);
    const metrics = await (await h.request("/metrics")).text();
    expect(metrics).toMatch(/^kogi_video_jobs\{status="done"\} [1-9]/m);
    expect(metrics).toMatch(/^kogi_video_oldest_queued_seconds 0$/m);
    expect(metrics).toMatch(/^kogi_upstream_calls_total\{upstream="d-id",outcome="succeeded"\} [1-9]/m);
    expect(metrics).toMatch(/^kogi_upstream_available\{upstream="d-id-renders"\} /m);
    expect(metrics).toContain("kogi_video_webhook_deliveries_total");
    const health = (await (await h.request("/health")).json()) as { videos: string };
    expect(health.videos).toBe("enabled");
  });

  it("the OpenAPI document covers every video route", async () => {
    const doc = (await (await h.request("/openapi.json")).json()) as {
      paths: Record<string, Record<string, { security?: unknown[] }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    const expected: [string, string][] = [
      ["/v1/videos", "post"],
      ["/v1/videos", "get"],
      ["/v1/videos/{id}", "get"],
      ["/v1/videos/{id}", "delete"],
      ["/v1/videos/uploads/images", "post"],
      ["/v1/videos/uploads/audios", "post"],
      ["/v1/webhooks/d-id/{secret}", "post"],
      ["/api/d_id_optimized/generate-video", "post"],
      ["/api/d_id_optimized/upload-source-image", "post"],
      ["/api/d_id_optimized/upload-audio", "post"],
      ["/api/d_id_optimized/talk-status/{talk_id}", "get"],
      ["/api/d_id_optimized/stats", "get"],
      ["/api/d_id_optimized/health", "get"],
    ];
    for (const [path, method] of expected)
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    expect(doc.paths["/v1/videos"]?.post?.security).toEqual([{ videoKey: [] }]);
    expect(doc.components.securitySchemes.videoKey).toBeDefined();
  });
});
