// Operations surface: health, readiness, metrics, stats, OpenAPI, docs and per-request headers.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateCatalog } from "../catalog/generator.js";
import { createHarness, type Harness } from "../testutil/harness.js";

describe("operations", () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await createHarness();
    await harness.importTerms(generateCatalog({ courses: 50, seed: 5 }).terms);
  });
  afterAll(async () => harness?.close());

  it("reports liveness and readiness with each dependency", async () => {
    expect((await harness.request("/health")).status).toBe(200);
    const ready = await harness.request("/ready");
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    expect(body.checks.mysql?.ok).toBe(true);
    expect(body.checks.redis?.ok).toBe(true);
    // No vector sidecar runs in this test: the api still serves search, and says it is degraded.
    expect(body.checks.vector?.ok).toBe(false);
    expect(body.status).toBe("degraded");
  });

  it("echoes a request id, times the request and says whether the cache answered", async () => {
    const response = await harness.request("/v1/courses/search", {
      json: { limit: 1 },
      headers: { "x-request-id": "abc-123" },
    });
    expect(response.headers.get("x-request-id")).toBe("abc-123");
    expect(Number(response.headers.get("x-process-time"))).toBeGreaterThan(0);
    expect(response.headers.get("server-timing")).toMatch(
      /cache;dur=[\d.]+;desc="miss", db;dur=[\d.]+, total;dur=/,
    );
    const generated = await harness.request("/health", { headers: { "x-request-id": "bad id with spaces" } });
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("exposes Prometheus metrics for requests, pool, cache and event loop", async () => {
    await harness.request("/v1/courses/search", { json: { limit: 1 } });
    const text = await (await harness.request("/metrics")).text();
    expect(text).toMatch(
      /kogi_http_request_duration_seconds_bucket\{.*route="\/v1\/courses\/search".*status="200"/,
    );
    expect(text).toMatch(/kogi_db_pool_connections\{state="in_use"\}/);
    expect(text).toMatch(/kogi_db_pool_connections\{state="queued"\}/);
    expect(text).toMatch(/kogi_cache_lookups_total\{cache="search",result="memory"\} [1-9]/);
    expect(text).toMatch(/kogi_cache_lookups_total\{cache="search",result="miss"\} [1-9]/);
    expect(text).toMatch(/kogi_nodejs_eventloop_lag_p99_seconds/);
  });

  it("shows pool and cache figures in /v1/stats", async () => {
    const stats = (await (await harness.request("/v1/stats")).json()) as {
      dbPool: { size: number };
      cache: { redis: string; memoryEntries: number };
    };
    expect(stats.dbPool.size).toBe(8);
    expect(stats.cache.redis).toBe("connected");
    expect(stats.cache.memoryEntries).toBeGreaterThan(0);
  });

  it("publishes OpenAPI 3.1 for every route and an interactive docs page", async () => {
    const spec = (await (await harness.request("/openapi.json")).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(spec.openapi).toBe("3.1.0");
    for (const path of [
      "/v1/courses/search",
      "/v1/courses/{id}",
      "/v1/terms",
      "/v1/calendars",
      "/v1/calendars/{id}",
      "/v1/calendars/{id}/sections/{crn}",
      "/search",
      "/health",
      "/ready",
    ])
      expect(spec.paths).toHaveProperty([path]);
    const docs = await harness.request("/docs");
    expect(docs.status).toBe(200);
    expect(await docs.text()).toMatch(/swagger/i);
  });
});
