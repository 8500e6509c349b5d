// The fake OpenAI through the official SDK: wire format, auth, scripted faults, the stats api tests use.
import OpenAI, {
  APIConnectionError,
  APIConnectionTimeoutError,
  AuthenticationError,
  InternalServerError,
  NotFoundError,
  RateLimitError,
} from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type FakeOpenAI, fakeEmbedding, startFakeOpenAI } from "./openai-server.js";

const API_KEY = "fake-key";
let fake: FakeOpenAI;

beforeAll(async () => {
  fake = await startFakeOpenAI({ apiKey: API_KEY, dims: 64 });
});
afterEach(() => fake.reset());
afterAll(() => fake.close());

const client = (options: { apiKey?: string; timeout?: number } = {}) =>
  new OpenAI({ apiKey: API_KEY, baseURL: fake.url, maxRetries: 0, ...options });

const chat = (text: string, openai = client()) =>
  openai.chat.completions.create({
    model: "gpt-4o-mini",
    temperature: 0,
    messages: [
      { role: "system", content: "Rewrite the query." },
      { role: "user", content: text },
    ],
  });

const norm = (vector: number[]) => Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));

describe("fake OpenAI: wire format", () => {
  it("answers a chat completion with a rewrite of the last user message", async () => {
    const completion = await chat("intro to databases");
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.object).toBe("chat.completion");
    expect(completion.model).toBe("gpt-4o-mini");
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0]?.message).toMatchObject({
      role: "assistant",
      content: "Course about: intro to databases",
    });
    expect(completion.choices[0]?.finish_reason).toBe("stop");
    const usage = completion.usage;
    expect(usage?.prompt_tokens).toBeGreaterThan(0);
    expect(usage?.total_tokens).toBe((usage?.prompt_tokens ?? 0) + (usage?.completion_tokens ?? 0));
    expect(fake.stats().chat).toMatchObject({ total: 1, inFlight: 0, outcomes: { ok: 1 } });
  });

  it("uses the rewrite option", async () => {
    const custom = await startFakeOpenAI({ rewrite: (text) => text.toUpperCase() });
    try {
      const openai = new OpenAI({ apiKey: "anything", baseURL: custom.url, maxRetries: 0 });
      const completion = await chat("machine learning", openai);
      expect(completion.choices[0]?.message.content).toBe("MACHINE LEARNING");
    } finally {
      await custom.close();
    }
  });

  it("embeds deterministically as unit vectors, in float and (the SDK's default) base64", async () => {
    const openai = client();
    const input = ["databases", "machine learning", "databases"];
    const float = await openai.embeddings.create({
      model: "text-embedding-3-small",
      input,
      encoding_format: "float",
    });
    expect(float.object).toBe("list");
    expect(float.model).toBe("text-embedding-3-small");
    expect(float.usage.prompt_tokens).toBeGreaterThan(0);
    expect(float.data.map((item) => item.index)).toEqual([0, 1, 2]);
    const [first, second, third] = float.data.map((item) => item.embedding);
    expect(first).toHaveLength(64);
    expect(norm(first ?? [])).toBeCloseTo(1, 5);
    expect(third).toEqual(first);
    expect(second).not.toEqual(first);
    expect(first).toEqual(fakeEmbedding("databases", 64));

    // No encoding_format: the SDK asks for base64 and decodes little-endian float32 itself.
    const decoded = await openai.embeddings.create({ model: "text-embedding-3-small", input });
    expect(decoded.data.map((item) => item.embedding)).toEqual([first, second, third]);

    const single = await openai.embeddings.create({
      model: "text-embedding-3-small",
      input: "databases",
      dimensions: 16,
      encoding_format: "float",
    });
    expect(single.data[0]?.embedding).toHaveLength(16);
    expect(fake.stats().embeddings.arrivals).toEqual(["databases", "databases", "databases"]);
  });

  it("rejects a wrong or missing key with OpenAI's 401 and unknown routes with a 404", async () => {
    const wrong = chat("x", client({ apiKey: "sk-wrong-key" }));
    await expect(wrong).rejects.toBeInstanceOf(AuthenticationError);
    await expect(wrong).rejects.toMatchObject({ status: 401, code: "invalid_api_key" });

    const missing = await fetch(`${fake.url}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "x" }] }),
    });
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ error: { type: "invalid_request_error" } });

    await expect(client().models.list()).rejects.toBeInstanceOf(NotFoundError);
    const unknown = await fetch(`${fake.url}/nope`, { method: "POST" });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({
      error: {
        message: "Invalid URL (POST /v1/nope)",
        type: "invalid_request_error",
        param: null,
        code: null,
      },
    });
    expect(fake.stats().chat.outcomes).toEqual({ "401": 2 });
    expect(fake.stats().unmatched).toBe(2);
  });

  it("answers 400 to a malformed request, as the real API does", async () => {
    const empty = client().embeddings.create({ model: "text-embedding-3-small", input: [""] });
    await expect(empty).rejects.toMatchObject({ status: 400 });
    expect(fake.stats().embeddings.outcomes).toEqual({ "400": 1 });
  });
});

describe("fake OpenAI: faults", () => {
  it("answers 429 with Retry-After and a rate-limit body, `times` times", async () => {
    fake.setBehavior({ chat: { fail: { status: 429, retryAfterSeconds: 7, times: 2 } } });
    for (let i = 0; i < 2; i++) {
      const error = await chat("q").catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(RateLimitError);
      const rateLimit = error as RateLimitError;
      expect(rateLimit.headers.get("retry-after")).toBe("7");
      expect(rateLimit.code).toBe("rate_limit_exceeded");
      expect(rateLimit.type).toBe("requests");
    }
    await expect(chat("q")).resolves.toBeDefined();
    expect(fake.stats().chat.outcomes).toEqual({ "429": 2, ok: 1 });
  });

  it("answers 500 with InternalServerError until told otherwise, for one endpoint only", async () => {
    fake.setBehavior({ chat: { fail: { status: 500 } } });
    await expect(chat("a")).rejects.toBeInstanceOf(InternalServerError);
    await expect(chat("b")).rejects.toMatchObject({ status: 500, type: "server_error" });
    await expect(
      client().embeddings.create({ model: "text-embedding-3-small", input: "a" }),
    ).resolves.toBeDefined();
    fake.setBehavior({ chat: { fail: undefined } });
    await expect(chat("c")).resolves.toBeDefined();
  });

  it("waits latencyMs before answering", async () => {
    fake.setBehavior({ embeddings: { latencyMs: 150 } });
    const started = performance.now();
    await client().embeddings.create({ model: "text-embedding-3-small", input: "slow" });
    // A little slack for timer granularity; no upper bound, CI machines stall.
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
  });

  it("hangs until the client times out, and counts the client leaving", async () => {
    fake.setBehavior({ chat: { hang: true } });
    const hung = chat("never answered", client({ timeout: 200 }));
    await expect(hung).rejects.toBeInstanceOf(APIConnectionTimeoutError);
    await expect.poll(() => fake.stats().chat.clientDisconnects).toBe(1);
    const stats = fake.stats().chat;
    expect(stats).toMatchObject({ inFlight: 0, disconnected: ["never answered"], outcomes: { hang: 1 } });
    expect(fake.stats().requests[0]).toMatchObject({ clientDisconnected: true, outcome: "hang" });
  });

  it("counts a client that aborts during the latency as disconnected", async () => {
    fake.setBehavior({ chat: { latencyMs: 5_000 } });
    const controller = new AbortController();
    const pending = client().chat.completions.create(
      { model: "m", messages: [{ role: "user", content: "impatient" }] },
      { signal: controller.signal },
    );
    await expect.poll(() => fake.stats().chat.inFlight).toBe(1);
    controller.abort();
    await expect(pending).rejects.toThrow();
    await expect.poll(() => fake.stats().chat.disconnected).toEqual(["impatient"]);
  });

  it("drops the connection without an answer", async () => {
    fake.setBehavior({ chat: { drop: true } });
    const error = await chat("q").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(error).not.toBeInstanceOf(APIConnectionTimeoutError);
    await expect.poll(() => fake.stats().chat.inFlight).toBe(0);
    // The fake cut the socket itself; that is not the client giving up.
    expect(fake.stats().chat).toMatchObject({ clientDisconnects: 0, outcomes: { drop: 1 } });
  });

  it("plays a sequence of outcomes, then falls back to the standing behaviour", async () => {
    fake.setBehavior({
      chat: { sequence: [429, { status: 503, retryAfterSeconds: 1 }, "drop", "ok"], fail: { status: 502 } },
    });
    await expect(chat("1")).rejects.toBeInstanceOf(RateLimitError);
    const unavailable = await chat("2").catch((caught: unknown) => caught);
    expect(unavailable).toMatchObject({ status: 503 });
    expect((unavailable as InternalServerError).headers.get("retry-after")).toBe("1");
    await expect(chat("3")).rejects.toBeInstanceOf(APIConnectionError);
    await expect(chat("4")).resolves.toBeDefined();
    await expect(chat("5")).rejects.toMatchObject({ status: 502 });
    expect(fake.stats().chat.outcomes).toEqual({ "429": 1, "503": 1, drop: 1, ok: 1, "502": 1 });
    expect(fake.stats().chat.arrivals).toEqual(["1", "2", "3", "4", "5"]);
  });

  it("tracks the most requests in flight at once", async () => {
    fake.setBehavior({ chat: { latencyMs: 200 } });
    const openai = client();
    await Promise.all(["a", "b", "c", "d", "e"].map((text) => chat(text, openai)));
    const stats = fake.stats().chat;
    expect(stats).toMatchObject({ total: 5, inFlight: 0, maxInFlight: 5, outcomes: { ok: 5 } });
    expect([...stats.arrivals].sort()).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("starts with behaviour from the options and returns to it on reset", async () => {
    const scripted = await startFakeOpenAI({ embeddings: { sequence: [500] } });
    try {
      const openai = new OpenAI({ apiKey: "k", baseURL: scripted.url, maxRetries: 0 });
      const embed = () => openai.embeddings.create({ model: "m", input: "x" });
      await expect(embed()).rejects.toBeInstanceOf(InternalServerError);
      await expect(embed()).resolves.toBeDefined();
      scripted.reset();
      expect(scripted.stats().embeddings.total).toBe(0);
      await expect(embed()).rejects.toBeInstanceOf(InternalServerError);
    } finally {
      await scripted.close();
    }
  });

  it("refuses nonsense behaviour up front", () => {
    expect(() => fake.setBehavior({ chat: { latencyMs: -1 } })).toThrow(RangeError);
    expect(() => fake.setBehavior({ chat: { fail: { status: 200 } } })).toThrow(RangeError);
    expect(() => fake.setBehavior({ chat: { sequence: ["later" as "ok"] } })).toThrow(RangeError);
  });
});
