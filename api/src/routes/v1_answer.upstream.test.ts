// The answer pipeline against a fake OpenAI on loopback: each fault mode gives its documented behaviour.
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { type FakeOpenAI, startFakeOpenAI } from "@kogi/shared/fakes/openai-server";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { generateCatalog } from "../catalog/generator.js";
import { type AnswerHarness, createAnswerHarness } from "../testutil/answer-harness.js";
import { waitFor } from "../testutil/redis-server.js";

describe("POST /v1/answer with an OpenAI-compatible upstream", () => {
  let fake: FakeOpenAI;
  let harness: AnswerHarness;
  let n = 0;
  const ask = (extra: Record<string, unknown> = {}) =>
    harness.answer({ question: `intro to topology ${++n}`, ...extra });

  beforeAll(async () => {
    fake = await startFakeOpenAI({ apiKey: "fake-key" });
    harness = await createAnswerHarness({
      load: (h) => h.importTerms(generateCatalog({ courses: 300, seed: 9 }).terms),
      env: {
        OPENAI_API_KEY: "fake-key",
        OPENAI_BASE_URL: fake.url,
        EMBEDDINGS_PROVIDER: "local",
        OPENAI_ATTEMPT_TIMEOUT_MS: "300",
        OPENAI_MAX_ATTEMPTS: "3",
        OPENAI_BREAKER_FAILURES: "3",
        OPENAI_BREAKER_COOLDOWN_MS: "600",
        OPENAI_MAX_CONCURRENCY: "2",
        OPENAI_MAX_QUEUE: "3",
        OPENAI_MAX_QUEUE_WAIT_MS: "1500",
        ANSWER_TIMEOUT_MS: "5000",
      },
    });
  });
  beforeEach(() => fake.reset());
  afterAll(async () => {
    await harness?.close();
    await fake?.close();
  });

  it("rewrites through the chat model and caches the rewrite", async () => {
    const first = await harness.answer({ question: "machine learning for beginners" });
    expect(first.response.status).toBe(200);
    expect(first.body.query).toEqual({
      rewritten: "Course about: machine learning for beginners",
      terms: ["machine", "learning", "beginners"],
      provider: "openai/gpt-4o-mini + local",
      fallback: [],
      indexStale: false,
    });
    expect(fake.stats().chat.total).toBe(1);
    const again = await harness.answer({ question: "machine learning for beginners", k: 4 });
    expect(again.body.stages.find((s) => s.name === "rewrite")?.cached).toBe(true);
    expect(fake.stats().chat.total).toBe(1);
  });

  it("waits out a 429's Retry-After and succeeds", async () => {
    fake.setBehavior({ chat: { sequence: [{ status: 429, retryAfterSeconds: 1 }] } });
    const started = Date.now();
    const { response, body } = await ask();
    expect(response.status).toBe(200);
    expect(body.query.fallback).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(fake.stats().chat.total).toBe(2);
  });

  it("retries 5xx and succeeds", async () => {
    fake.setBehavior({ chat: { sequence: [500, 503, "ok"] } });
    const { response, body } = await ask();
    expect(response.status).toBe(200);
    expect(body.query.fallback).toEqual([]);
    expect(fake.stats().chat.total).toBe(3);
  });

  it("retries a dropped connection and succeeds; falls back when every attempt is dropped", async () => {
    fake.setBehavior({ chat: { sequence: ["drop", "ok"] } });
    const retried = await ask();
    expect(retried.response.status).toBe(200);
    expect(retried.body.query.fallback).toEqual([]);
    expect(fake.stats().chat.total).toBe(2);

    fake.setBehavior({ chat: { sequence: ["drop", "drop", "drop"] } });
    const question = "a question whose upstream connection always drops";
    const dropped = await harness.answer({ question });
    expect(dropped.response.status).toBe(200);
    expect(dropped.body.query).toMatchObject({ rewritten: question, fallback: ["rewrite"] });
    expect(fake.stats().chat.total).toBe(5);
  });

  it("never retries another 4xx, and says the upstream refused", async () => {
    fake.setBehavior({ chat: { sequence: [400] } });
    const { response, body } = await ask();
    expect(response.status).toBe(502);
    expect(body.code).toBe("upstream_error");
    expect(fake.stats().chat.total).toBe(1);
  });

  it("falls back to the question itself when the upstream hangs, and flags it", async () => {
    fake.setBehavior({ chat: { hang: true } });
    const question = "a hanging question about topology";
    const { response, body } = await harness.answer({ question });
    expect(response.status).toBe(200);
    expect(body.query).toMatchObject({ rewritten: question, fallback: ["rewrite"] });
    expect(fake.stats().chat.total).toBe(3);
    // A fallback answer is not kept: once the upstream is back the same question is rewritten by it.
    fake.setBehavior({ chat: { hang: false } });
    await waitFor(
      async () => (await harness.answer({ question })).body.query.fallback.length === 0,
      "the upstream answer",
      10_000,
    );
  });

  it("opens the breaker after repeated failures, answers fast with the fallback, half-opens and closes", async () => {
    fake.setBehavior({ chat: { fail: { status: 500 } } });
    for (let i = 0; i < 3; i++) expect((await ask()).body.query.fallback).toEqual(["rewrite"]);
    const before = fake.stats().chat.total;
    const whileOpen = await ask();
    expect(whileOpen.body.query.fallback).toEqual(["rewrite"]);
    expect(fake.stats().chat.total).toBe(before);
    const ready = (await (await harness.request("/ready")).json()) as {
      checks: Record<string, { ok: boolean; detail: string }>;
    };
    expect(ready.checks["upstream:openai-chat"]).toMatchObject({ ok: false, detail: "breaker open" });

    fake.setBehavior({ chat: { fail: undefined } });
    await new Promise((resolve) => setTimeout(resolve, 700));
    const probe = await ask();
    expect(probe.body.query.fallback).toEqual([]);
    const closed = (await (await harness.request("/v1/stats")).json()) as {
      upstreams: { name: string; breaker: string }[];
    };
    expect(closed.upstreams.find((u) => u.name === "openai-chat")?.breaker).toBe("closed");
  });

  it("sheds load beyond the budget with 503 + Retry-After instead of waiting forever", async () => {
    // Slow but within the attempt timeout (300 ms): these are healthy calls, not breaker failures.
    fake.setBehavior({ chat: { latencyMs: 250 } });
    const results = await Promise.all(Array.from({ length: 12 }, () => ask()));
    const statuses = results.map((r) => r.response.status);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    const shed = results.find((r) => r.response.status === 503);
    expect(shed?.body.code).toBe("upstream_overloaded");
    expect(Number(shed?.response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(fake.stats().chat.maxInFlight).toBeLessThanOrEqual(2);
  });

  it("cancels the upstream call when the client disconnects", async () => {
    fake.setBehavior({ chat: { latencyMs: 250 } });
    const server = await new Promise<{ server: Server; url: string }>((resolve) => {
      const s = serve(
        { fetch: harness.app.fetch, port: 0, hostname: "127.0.0.1", overrideGlobalObjects: false },
        (info) => resolve({ server: s as Server, url: `http://127.0.0.1:${info.port}` }),
      ) as Server;
    });
    try {
      await expect(
        fetch(`${server.url}/v1/answer`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ question: "a question nobody waits for" }),
          signal: AbortSignal.timeout(100),
        }),
      ).rejects.toThrow();
      await waitFor(
        () => fake.stats().chat.clientDisconnects >= 1,
        "the upstream call to be cancelled",
        2_000,
      );
    } finally {
      await new Promise((resolve) => server.server.close(resolve));
    }
  });
});
