// The fake D-ID over real loopback HTTP: auth, talk lifecycle, uploads, webhooks, scripted faults, capacity, steering.
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type FakeDId, startFakeDId } from "./d-id-server.js";

let fake: FakeDId;

beforeAll(async () => {
  fake = await startFakeDId({ queueMs: 50, renderMs: 100, allowHttpWebhooks: true });
});
afterEach(() => fake.reset());
afterAll(() => fake.close());

type Json = Record<string, unknown>;

interface CallOptions {
  method?: string;
  json?: unknown;
  body?: RequestInit["body"];
  /** null sends no Authorization header at all. */
  auth?: string | null;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

const api = (path: string, options: CallOptions = {}, target: FakeDId = fake) => {
  const headers: Record<string, string> = { ...options.headers };
  const auth = options.auth === undefined ? `Basic ${target.apiKey}` : options.auth;
  if (auth !== null) headers.authorization = auth;
  let body = options.body;
  if (options.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(options.json);
  }
  return fetch(`${target.url}${path}`, {
    method: options.method ?? "GET",
    headers,
    body,
    signal: options.signal,
  });
};

const talkBody = (input = "Welcome to the course catalogue", extra: Json = {}) => ({
  source_url: "https://example.com/presenter.jpg",
  script: { type: "text", input },
  ...extra,
});

async function createTalk(body: unknown = talkBody(), target: FakeDId = fake): Promise<string> {
  const response = await api("/talks", { method: "POST", json: body }, target);
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

async function getTalk(id: string): Promise<Json> {
  const response = await api(`/talks/${id}`);
  expect(response.status).toBe(200);
  return (await response.json()) as Json;
}

const waitForStatus = (id: string, status: string) =>
  expect.poll(async () => (await getTalk(id)).status, { timeout: 5_000, interval: 10 }).toBe(status);

/** A plain http receiver standing in for our webhook endpoint; records bodies and headers in arrival order. */
async function startReceiver(status = 200) {
  const received: { body: Json; headers: IncomingHttpHeaders }[] = [];
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    received.push({ body: JSON.parse(Buffer.concat(chunks).toString("utf8")), headers: request.headers });
    response.writeHead(status).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/d-id?token=secret`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function fileForm(bytes: Uint8Array, type = "image/jpeg", field = "image", filename = "face.jpg"): FormData {
  const form = new FormData();
  form.append(field, new Blob([bytes], { type }), filename);
  return form;
}

describe("fake D-ID: auth and errors", () => {
  it("accepts the key verbatim and base64-encoded after Basic, and nothing else", async () => {
    const verbatim = await api("/credits", { auth: "Basic fake-user:fake-secret" });
    expect(verbatim.status).toBe(200);
    const encoded = await api("/credits", {
      auth: `Basic ${Buffer.from("fake-user:fake-secret").toString("base64")}`,
    });
    expect(encoded.status).toBe(200);

    for (const auth of ["Basic fake-user:wrong", "Bearer fake-user:fake-secret", null]) {
      const refused = await api("/credits", { auth });
      expect(refused.status).toBe(401);
      expect(await refused.json()).toEqual({
        kind: "AuthorizationError",
        description: "user unauthenticated",
      });
    }
    const stats = await (await fetch(`${fake.url}/__fake/stats`)).json();
    expect(stats).toMatchObject({ unauthorized: 3, calls: { "GET /credits": 5 } });
  });

  it("answers unknown routes with NotFoundError", async () => {
    const response = await api("/clips/presenters");
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ kind: "NotFoundError", description: "not found" });
  });
});

describe("fake D-ID: creating talks", () => {
  it("answers 201 with exactly id, object, created_at, created_by and status", async () => {
    const response = await api("/talks", { method: "POST", json: talkBody() });
    expect(response.status).toBe(201);
    const body = (await response.json()) as Json;
    expect(Object.keys(body).sort()).toEqual(["created_at", "created_by", "id", "object", "status"]);
    expect(body).toMatchObject({ object: "talk", status: "created", created_by: "auth0|fake-user" });
    expect(body.id).toMatch(/^tlk_[A-Za-z0-9_-]{21}$/);
    expect(body.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(fake.stats()).toMatchObject({ talksCreated: 1, calls: { "POST /talks": 1 } });
  });

  it("answers 'script' is required when the JSON content type is missing, as the real API does", async () => {
    const response = await api("/talks", { method: "POST", body: JSON.stringify(talkBody()) });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      kind: "ValidationError",
      description: "validation failed",
      details: { "body.script": { message: "'script' is required" } },
    });
  });

  it.each([
    ["a too short input", talkBody("hi"), "body.script.input"],
    ["an unknown script type", { script: { type: "video", input: "hello there" } }, "body.script.type"],
    ["a gif source", talkBody(undefined, { source_url: "https://example.com/face.gif" }), "body.source_url"],
    ["an http source", talkBody(undefined, { source_url: "http://example.com/face.jpg" }), "body.source_url"],
    ["a blank user_data", talkBody(undefined, { user_data: "   " }), "body.user_data"],
    ["an over-long user_data", talkBody(undefined, { user_data: "x".repeat(1001) }), "body.user_data"],
    [
      "an audio_url with no audio extension",
      { script: { type: "audio", audio_url: "https://a.io/x.txt" } },
      "body.script.audio_url",
    ],
  ])("rejects %s with a ValidationError naming the field", async (_case, body, field) => {
    const response = await api("/talks", { method: "POST", json: body });
    expect(response.status).toBe(400);
    const error = (await response.json()) as { kind: string; details: Json };
    expect(error.kind).toBe("ValidationError");
    expect(Object.keys(error.details)).toEqual([field]);
    expect(fake.stats().talksCreated).toBe(0);
  });

  it("ignores unknown fields and takes booleans and numbers sent as strings", async () => {
    const id = await createTalk(
      talkBody(undefined, {
        driver_url: "bank://natural",
        persist: true,
        face: { size: 512 },
        config: { fluent: "false", pad_audio: "0.0", stitch: "true" },
      }),
    );
    const talk = await getTalk(id);
    expect(talk.config).toMatchObject({ fluent: false, pad_audio: 0, stitch: true, result_format: ".mp4" });
    expect(talk.driver_url).toBe("bank://natural");
  });

  it("requires an https webhook unless http is allowed", async () => {
    const strict = await startFakeDId();
    try {
      const response = await api(
        "/talks",
        { method: "POST", json: talkBody(undefined, { webhook: "http://127.0.0.1:9/hook" }) },
        strict,
      );
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({
        kind: "ValidationError",
        details: { "body.webhook": { value: "http://127.0.0.1:9/hook" } },
      });
      await createTalk(talkBody(undefined, { webhook: "https://example.com/hook" }), strict);
    } finally {
      await strict.close();
    }
  });

  it("answers 451 TextModerationError at once for [[moderation]], creating nothing", async () => {
    const response = await api("/talks", { method: "POST", json: talkBody("please [[moderation]] this") });
    expect(response.status).toBe(451);
    expect(await response.json()).toMatchObject({ kind: "TextModerationError" });
    const viaUserData = await api("/talks", {
      method: "POST",
      json: talkBody(undefined, { user_data: "job-7 [[moderation]]" }),
    });
    expect(viaUserData.status).toBe(451);
    expect(fake.stats().talksCreated).toBe(0);
  });
});

describe("fake D-ID: talk lifecycle", () => {
  it("goes created -> started -> done, with result_url only once done and started_at without Z", async () => {
    fake.setBehavior({ maxInProgress: 0 });
    const id = await createTalk(
      talkBody("Databases for the curious beginner", {
        user_data: "job-1",
        webhook: "https://example.com/h",
      }),
    );
    const created = await getTalk(id);
    expect(created).toMatchObject({ id, status: "created", user_id: "auth0|fake-user", user_data: "job-1" });
    expect(created).not.toHaveProperty("started_at");
    expect(created).not.toHaveProperty("result_url");

    fake.setBehavior({ maxInProgress: null, renderMs: 200 });
    const seen: Json[] = [];
    await expect
      .poll(
        async () => {
          const talk = await getTalk(id);
          seen.push(talk);
          return talk.status;
        },
        { timeout: 5_000, interval: 10 },
      )
      .toBe("done");
    const started = seen.find((talk) => talk.status === "started");
    expect(started?.started_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$/);
    for (const talk of seen.filter((each) => each.status !== "done"))
      expect(talk).not.toHaveProperty("result_url");

    const done = seen[seen.length - 1] as Json;
    expect(done).toMatchObject({
      status: "done",
      user_data: "job-1",
      webhook: "https://example.com/h",
      started_at: started?.started_at,
      duration: 2,
      config: { result_format: ".mp4" },
      metadata: { num_frames: 50, resolution: [512, 512] },
    });
    expect(String(done.modified_at).endsWith("Z")).toBe(true);
    expect(done.result_url).toMatch(
      new RegExp(`^${fake.url}/__fake/results/${id}\\.mp4\\?Expires=\\d+&Signature=[^&]+$`),
    );
    const video = await fetch(String(done.result_url));
    expect(video.status).toBe(200);
    expect(video.headers.get("content-type")).toBe("video/mp4");
    const bytes = Buffer.from(await video.arrayBuffer());
    expect(bytes.subarray(4, 8).toString("latin1")).toBe("ftyp");
  });

  it("ends in error for [[error]] and in rejected for [[rejected]], billing neither", async () => {
    const failing = await createTalk(talkBody("this one [[error]] fails"));
    const rejected = await createTalk(talkBody(undefined, { user_data: "job-2 [[rejected]]" }));
    const fine = await createTalk();
    await waitForStatus(failing, "error");
    await waitForStatus(rejected, "rejected");
    await waitForStatus(fine, "done");

    const error = await getTalk(failing);
    expect(error.error).toEqual({ kind: "FaceError", description: "No valid face detected" });
    expect(error).not.toHaveProperty("result_url");
    expect((await getTalk(rejected)).error).toMatchObject({
      kind: expect.any(String),
      description: expect.any(String),
    });

    expect(fake.stats().creditsCharged).toBe(1);
    const credits = await (await api("/credits")).json();
    expect(credits).toMatchObject({ remaining: 99, total: 100, credits: [{ remaining: 99, total: 100 }] });
  });

  it("answers 402 InsufficientCreditsError once the credits are used up", async () => {
    fake.setBehavior({ credits: 1 });
    const id = await createTalk();
    // The running talk holds the last credit, so a second one is refused even before it finishes.
    const early = await api("/talks", { method: "POST", json: talkBody() });
    expect(early.status).toBe(402);
    expect(await early.json()).toEqual({
      kind: "InsufficientCreditsError",
      description: "not enough credits",
    });
    await waitForStatus(id, "done");
    const late = await api("/talks", { method: "POST", json: talkBody() });
    expect(late.status).toBe(402);
    expect(fake.stats()).toMatchObject({ talksCreated: 1, creditsCharged: 1 });
    expect(await (await api("/credits")).json()).toMatchObject({ remaining: 0 });
  });

  it("lists talks newest first in pages, leaving the token off the last page", async () => {
    for (const job of ["t0", "t1", "t2", "t3", "t4"])
      await createTalk(talkBody(undefined, { user_data: job }));
    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const query = token ? `?limit=2&token=${encodeURIComponent(token)}` : "?limit=2";
      const page = (await (await api(`/talks${query}`)).json()) as { talks: Json[]; token?: string };
      pages.push(page.talks.map((talk) => String(talk.user_data)));
      token = page.token;
    } while (token);
    expect(pages).toEqual([["t4", "t3"], ["t2", "t1"], ["t0"]]);
    const all = (await (await api("/talks")).json()) as Json;
    expect(all).not.toHaveProperty("token");
    expect(all.talks).toHaveLength(5);
  });

  it("refuses to delete a talk in process with 409, then deletes it once finished", async () => {
    fake.setBehavior({ maxInProgress: 0 });
    const id = await createTalk();
    const busy = await api(`/talks/${id}`, { method: "DELETE" });
    expect(busy.status).toBe(409);
    expect(await busy.json()).toEqual({
      kind: "NotReadyError",
      description: "talk is in process, try again later",
    });

    fake.setBehavior({ maxInProgress: null });
    await waitForStatus(id, "done");
    const deleted = await api(`/talks/${id}`, { method: "DELETE" });
    expect(deleted.status).toBe(200);
    expect(await deleted.json()).toMatchObject({ id, status: "done" });
    expect((await api(`/talks/${id}`)).status).toBe(404);
    const again = await api(`/talks/${id}`, { method: "DELETE" });
    expect(again.status).toBe(404);
    expect(await again.json()).toEqual({ kind: "NotFoundError", description: "not found" });
  });

  it("serves result_url until it expires, then S3's 403 AccessDenied; a forged signature is refused", async () => {
    const id = await createTalk();
    await waitForStatus(id, "done");
    const live = String((await getTalk(id)).result_url);
    expect((await fetch(live)).status).toBe(200);
    expect((await fetch(live.replace(/Signature=[^&]+/, "Signature=forged"))).status).toBe(403);

    fake.setBehavior({ resultTtlMs: 0 });
    const expiredUrl = String((await getTalk(id)).result_url);
    const expired = await fetch(expiredUrl);
    expect(expired.status).toBe(403);
    const xml = await expired.text();
    expect(xml).toContain("<Code>AccessDenied</Code>");
    expect(xml).toContain("Request has expired");
  });
});

describe("fake D-ID: uploads", () => {
  it("stores an image byte for byte and takes its URL back as source_url", async () => {
    const bytes = new Uint8Array(4096).map((_, i) => (i * 7) % 256);
    const response = await api("/images", { method: "POST", body: fileForm(bytes) });
    expect(response.status).toBe(201);
    const { id, url } = (await response.json()) as { id: string; url: string };
    expect(id).toMatch(/^upl_[A-Za-z0-9_-]{21}$/);
    expect(url).toBe(`https://create-images-results.d-id.com/auth0%7Cfake-user/${id}/image.jpeg`);
    const stored = fake.upload(id);
    expect(stored).toMatchObject({ kind: "image", mimeType: "image/jpeg", filename: "face.jpg" });
    expect(stored?.bytes.equals(Buffer.from(bytes))).toBe(true);

    const talk = await createTalk({
      source_url: url,
      script: { type: "text", input: "hello from an upload" },
    });
    await waitForStatus(talk, "done");

    expect((await api(`/images/${id}`, { method: "DELETE" })).status).toBe(204);
    const gone = await api(`/images/${id}`, { method: "DELETE" });
    expect(gone.status).toBe(404);
    expect(await gone.json()).toEqual({ kind: "NotFoundError", description: "image not found" });
  });

  it("stores an audio and takes its s3 URL back as script.audio_url", async () => {
    const bytes = new Uint8Array(32_000).fill(3);
    const form = new FormData();
    form.append("audio", new Blob([bytes], { type: "audio/mpeg" }), "voice.mp3");
    const response = await api("/audios", { method: "POST", body: form });
    expect(response.status).toBe(201);
    const answer = (await response.json()) as { id: string; url: string; duration: number };
    expect(answer).toMatchObject({ duration: 2, moderation_metadata: {} });
    expect(answer.id).toMatch(/^[A-Za-z0-9_-]{21}$/);
    expect(answer.url).toBe(`s3://d-id-audios-prod/auth0%7Cfake-user/${answer.id}/audio.wav`);
    expect(fake.upload(answer.id)?.bytes.equals(Buffer.from(bytes))).toBe(true);

    const talk = await createTalk({ script: { type: "audio", audio_url: answer.url } });
    await waitForStatus(talk, "done");
    expect(await getTalk(talk)).toMatchObject({ audio_url: answer.url, duration: 2 });
    expect((await api(`/audios/${answer.id}`, { method: "DELETE" })).status).toBe(204);
  });

  it("answers 415 UnsupportedMimeTypeError with what it got and what it takes", async () => {
    const image = await api("/images", { method: "POST", body: fileForm(new Uint8Array(10), "image/gif") });
    expect(image.status).toBe(415);
    expect(await image.json()).toEqual({
      kind: "UnsupportedMimeTypeError",
      description: "The provided mime type is not supported",
      details: { received: "image/gif", supported: ["image/jpeg", "image/png"] },
    });
    const audio = await api("/audios", {
      method: "POST",
      body: fileForm(new Uint8Array(10), "image/jpg", "audio", "x.jpg"),
    });
    expect(audio.status).toBe(415);
    expect(await audio.json()).toMatchObject({
      details: { received: "image/jpg", supported: ["audio/*", "video/*"] },
    });
  });

  it("takes an image of exactly 10 MB, refuses one byte more (audio: over 6 MB) with InvalidFileSizeError", async () => {
    const limit = 10 * 1024 * 1024;
    const atLimit = await api("/images", {
      method: "POST",
      body: fileForm(new Uint8Array(limit), "image/png"),
    });
    expect(atLimit.status).toBe(201);
    const over = await api("/images", { method: "POST", body: fileForm(new Uint8Array(limit + 1)) });
    expect(over.status).toBe(400);
    expect(await over.json()).toMatchObject({ kind: "InvalidFileSizeError" });

    const audioLimit = 6 * 1024 * 1024;
    const longAudio = await api("/audios", {
      method: "POST",
      body: fileForm(new Uint8Array(audioLimit + 1), "audio/wav", "audio", "long.wav"),
    });
    expect(longAudio.status).toBe(400);
    expect(await longAudio.json()).toMatchObject({ kind: "InvalidFileSizeError" });
  });

  it("asks for the image field when it is missing", async () => {
    const form = new FormData();
    form.append("detect_faces", "true");
    const response = await api("/images", { method: "POST", body: form });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ kind: "ValidationError", details: { image: {} } });
  });
});

describe("fake D-ID: webhooks", () => {
  it("posts the finished talk, extra duplicates and a stale 'started' copy after it", async () => {
    const receiver = await startReceiver();
    try {
      fake.setBehavior({ webhook: { duplicates: 2, staleAfterFinal: true } });
      const id = await createTalk(talkBody(undefined, { webhook: receiver.url, user_data: "job-9" }));
      await expect.poll(() => receiver.received.length, { timeout: 5_000, interval: 10 }).toBe(4);
      const statuses = receiver.received.map((each) => each.body.status);
      expect(statuses).toEqual(["done", "done", "done", "started"]);
      const final = receiver.received[0];
      expect(final?.headers["content-type"]).toBe("application/json");
      expect(final?.headers).not.toHaveProperty("x-d-id-signature");
      expect(final?.body).toMatchObject({ id, user_data: "job-9", result_url: expect.any(String) });
      expect(receiver.received[3]?.body).not.toHaveProperty("result_url");
      expect(fake.stats()).toMatchObject({ webhooksSent: 4, webhookFailures: 0 });
    } finally {
      await receiver.close();
    }
  });

  it("posts error talks too, and counts receivers that refuse or fail without falling over", async () => {
    const failing = await startReceiver(500);
    try {
      await createTalk(talkBody("a [[error]] case", { webhook: failing.url }));
      await expect.poll(() => failing.received.length, { timeout: 5_000, interval: 10 }).toBe(1);
      expect(failing.received[0]?.body).toMatchObject({ status: "error", error: { kind: "FaceError" } });
      await expect.poll(() => fake.stats().webhookFailures, { timeout: 5_000, interval: 10 }).toBe(1);
    } finally {
      await failing.close();
    }
    // Port 9 (discard) has no listener on loopback: the connection is refused.
    await createTalk(talkBody(undefined, { webhook: "http://127.0.0.1:9/hook" }));
    await expect.poll(() => fake.stats().webhookFailures, { timeout: 5_000, interval: 10 }).toBe(2);
    expect(fake.stats().webhooksSent).toBe(2);
    expect((await api("/credits")).status).toBe(200);
  });
});

describe("fake D-ID: scripted faults", () => {
  it("plays 500, 429 without and with Retry-After, then ok", async () => {
    const id = await createTalk();
    fake.setBehavior({
      routes: { getTalk: { sequence: [500, 429, { status: 429, retryAfterSeconds: 3 }] } },
    });
    const server = await api(`/talks/${id}`);
    expect(server.status).toBe(500);
    expect(await server.json()).toEqual({
      kind: "InternalServerError",
      description: "internal server error",
    });
    const bare = await api(`/talks/${id}`);
    expect(bare.status).toBe(429);
    expect(bare.headers.get("retry-after")).toBeNull();
    expect(await bare.json()).toMatchObject({ kind: "TooManyRequestsError" });
    const paced = await api(`/talks/${id}`);
    expect(paced.status).toBe(429);
    expect(paced.headers.get("retry-after")).toBe("3");
    expect((await api(`/talks/${id}`)).status).toBe(200);
  });

  it.each([
    [401, "AuthorizationError"],
    [402, "InsufficientCreditsError"],
    [403, "PermissionError"],
    [404, "NotFoundError"],
    [451, "ImageModerationError"],
  ])("answers a scripted %i with D-ID's %s body", async (status, kind) => {
    fake.setBehavior({ routes: { credits: { sequence: [status] } } });
    const response = await api("/credits");
    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject({ kind, description: expect.any(String) });
  });

  it("hangs until the client gives up, and drops the connection without an answer", async () => {
    fake.setBehavior({ routes: { credits: { sequence: ["hang", "drop"] } } });
    await expect(api("/credits", { signal: AbortSignal.timeout(200) })).rejects.toMatchObject({
      name: "TimeoutError",
    });
    await expect(api("/credits")).rejects.toThrow(TypeError);
    expect((await api("/credits")).status).toBe(200);
  });

  it("creates the talk before a createTalk drop or hang, but not before drop-before", async () => {
    fake.setBehavior({ routes: { createTalk: { sequence: ["drop", "hang", "drop-before"] } } });
    await expect(
      api("/talks", { method: "POST", json: talkBody(undefined, { user_data: "job-drop" }) }),
    ).rejects.toThrow(TypeError);

    const controller = new AbortController();
    const hung = api("/talks", {
      method: "POST",
      json: talkBody(undefined, { user_data: "job-hang" }),
      signal: controller.signal,
    });
    await expect.poll(() => fake.stats().talksCreated, { timeout: 5_000, interval: 10 }).toBe(2);
    controller.abort();
    await expect(hung).rejects.toMatchObject({ name: "AbortError" });

    await expect(
      api("/talks", { method: "POST", json: talkBody(undefined, { user_data: "job-before" }) }),
    ).rejects.toThrow(TypeError);
    expect(fake.stats()).toMatchObject({
      talksCreated: 2,
      talksByUserData: { "job-drop": 1, "job-hang": 1 },
      createOrder: ["job-drop", "job-hang"],
      calls: { "POST /talks": 3 },
    });
    const listed = (await (await api("/talks")).json()) as { talks: Json[] };
    expect(listed.talks.map((talk) => talk.user_data)).toEqual(["job-hang", "job-drop"]);
  });

  it("waits latencyMs plus the route's own latency before answering", async () => {
    fake.setBehavior({ latencyMs: 60, routes: { credits: { latencyMs: 60 } } });
    const started = performance.now();
    expect((await api("/credits")).status).toBe(200);
    // A little slack for timer granularity; no upper bound, CI machines stall.
    expect(performance.now() - started).toBeGreaterThanOrEqual(115);
  });
});

describe("fake D-ID: capacity", () => {
  it("queues talks beyond maxInProgress in 'created' and never runs more than the cap", async () => {
    // No slots at first, so all five are waiting when the cap opens; no race with the talks' clocks.
    fake.setBehavior({ maxInProgress: 0 });
    const jobs = ["p1", "p2", "p3", "p4", "p5"];
    const ids = await Promise.all(jobs.map((job) => createTalk(talkBody(undefined, { user_data: job }))));
    expect(fake.stats()).toMatchObject({ inProgress: 0, waiting: 5 });
    expect(await Promise.all(ids.map(async (id) => (await getTalk(id)).status))).toEqual(
      jobs.map(() => "created"),
    );
    fake.setBehavior({ maxInProgress: 2 });
    expect(fake.stats()).toMatchObject({ inProgress: 2, waiting: 3 });
    for (const id of ids) await waitForStatus(id, "done");
    expect(fake.stats()).toMatchObject({ inProgress: 0, waiting: 0, maxInProgress: 2, creditsCharged: 5 });
    expect([...fake.stats().createOrder].sort()).toEqual(jobs);
  });

  it("answers 429 beyond maxInProgress with overCapacity 'reject'", async () => {
    // A long queue keeps the first talk in its slot however slow the machine is.
    fake.setBehavior({ maxInProgress: 1, overCapacity: "reject", queueMs: 60_000 });
    await createTalk();
    const refused = await api("/talks", { method: "POST", json: talkBody() });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBeNull();
    expect(await refused.json()).toMatchObject({ kind: "TooManyRequestsError" });
    fake.setBehavior({ maxInProgress: 2 });
    await createTalk();
    expect(fake.stats()).toMatchObject({ talksCreated: 2, inProgress: 2, maxInProgress: 2 });
  });
});

describe("fake D-ID: steering a separately running fake", () => {
  it("takes a behaviour patch over POST /__fake/behavior and resets over POST /__fake/reset", async () => {
    const patch = await fetch(`${fake.url}/__fake/behavior`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ routes: { credits: { sequence: [{ status: 503, retryAfterSeconds: 1 }] } } }),
    });
    expect(patch.status).toBe(204);
    const unavailable = await api("/credits");
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get("retry-after")).toBe("1");

    const nonsense = await fetch(`${fake.url}/__fake/behavior`, {
      method: "POST",
      body: JSON.stringify({ queueMs: -5 }),
    });
    expect(nonsense.status).toBe(400);
    expect(await nonsense.json()).toMatchObject({ kind: "ValidationError" });

    expect((await fetch(`${fake.url}/__fake/reset`, { method: "POST" })).status).toBe(204);
    const stats = (await (await fetch(`${fake.url}/__fake/stats`)).json()) as Json;
    expect(stats).toMatchObject({ talksCreated: 0, unauthorized: 0, calls: { "GET /credits": 0 } });
  });

  it("refuses nonsense behaviour from code up front", () => {
    expect(() => fake.setBehavior({ renderMs: -1 })).toThrow(RangeError);
    expect(() => fake.setBehavior({ routes: { getTalk: { sequence: [200] } } })).toThrow(RangeError);
    expect(() => fake.setBehavior({ overCapacity: "drop" as "queue" })).toThrow(RangeError);
  });

  it("close() ends a hanging request and is safe to call twice", async () => {
    const own = await startFakeDId();
    own.setBehavior({ routes: { credits: { sequence: ["hang"] } } });
    const hanging = api("/credits", {}, own);
    await expect.poll(() => own.stats().calls["GET /credits"], { timeout: 5_000, interval: 10 }).toBe(1);
    await own.close();
    await own.close();
    await expect(hanging).rejects.toThrow(TypeError);
  });
});
