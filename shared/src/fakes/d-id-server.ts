// Loopback fake of the D-ID REST API (api.d-id.com talks, uploads, credits) in its real wire format, with faults.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  applyPatch,
  defaultBehavior,
  type FakeDIdBehavior,
  type FakeDIdBehaviorPatch,
  type FakeDIdRoute,
  type FakeDIdStep,
  nextStep,
} from "./d-id-behavior.js";
import { fakeMp4, ResultUrls, s3Error } from "./d-id-results.js";
import { parseTalkRequest } from "./d-id-talk-request.js";
import { TalkStore } from "./d-id-talks.js";
import { type StoredUpload, UploadStore } from "./d-id-uploads.js";
import { WebhookSender } from "./d-id-webhooks.js";
import { authorized, DIdError, errorForStatus, readBody, readJsonBody } from "./d-id-wire.js";

export type {
  FakeDIdBehaviorPatch,
  FakeDIdRoute,
  FakeDIdStep,
  FakeRouteBehavior,
} from "./d-id-behavior.js";
export type { StoredUpload } from "./d-id-uploads.js";

export interface FakeDIdOptions extends FakeDIdBehaviorPatch {
  /** Defaults to 0 (any free port). */
  port?: number;
  /** Defaults to 127.0.0.1. */
  host?: string;
  /** `user:secret`, as D-ID issues keys; defaults to "fake-user:fake-secret". */
  apiKey?: string;
  /** Real D-ID takes https webhooks only; loopback tests need http. Defaults to false (http → 400 ValidationError). */
  allowHttpWebhooks?: boolean;
}

export interface FakeDIdStats {
  /** Requests per route, keyed like "POST /talks", "GET /talks/{id}" (401s included). */
  calls: Record<string, number>;
  talksCreated: number;
  /** Talks that reached done; error and rejected are not billed. */
  creditsCharged: number;
  /** Talks holding a slot (created or started) now. */
  inProgress: number;
  /** Highest inProgress ever. */
  maxInProgress: number;
  /** Talks in "created" waiting for a slot under overCapacity "queue" (not counted in inProgress). */
  waiting: number;
  /** Talks per user_data: how a test proves "at most one paid talk per job". */
  talksByUserData: Record<string, number>;
  /** user_data of created talks in creation order ("" for a talk without one). */
  createOrder: string[];
  /** Webhook POSTs made (duplicates and stale copies included). */
  webhooksSent: number;
  /** Of those, the ones refused, timed out or answered non-2xx. */
  webhookFailures: number;
  unauthorized: number;
}

export interface FakeDId {
  /** Base URL without a path, e.g. http://127.0.0.1:PORT, as D_ID_BASE_URL expects. */
  readonly url: string;
  readonly port: number;
  readonly apiKey: string;
  /** Merges into the current behaviour; a route's `sequence` replaces what is left of its previous one. */
  setBehavior(patch: FakeDIdBehaviorPatch): void;
  /** The same object GET /__fake/stats answers. */
  stats(): FakeDIdStats;
  /** The GET /talks/{id} representation (with a freshly signed result_url once done). */
  talk(id: string): object | undefined;
  upload(id: string): StoredUpload | undefined;
  /** Back to the options given at start: no talks, uploads or counts; pending clocks and webhooks stop. */
  reset(): void;
  /** Stops listening, cuts every connection (hanging ones too), stops clocks and webhooks. Safe to call twice. */
  close(): Promise<void>;
}

interface RouteSpec {
  method: string;
  path: RegExp;
  route: FakeDIdRoute;
  key: string;
}

const API_ROUTES: RouteSpec[] = [
  { method: "POST", path: /^\/talks\/?$/, route: "createTalk", key: "POST /talks" },
  { method: "GET", path: /^\/talks\/?$/, route: "listTalks", key: "GET /talks" },
  { method: "GET", path: /^\/talks\/([^/]+)$/, route: "getTalk", key: "GET /talks/{id}" },
  { method: "DELETE", path: /^\/talks\/([^/]+)$/, route: "deleteTalk", key: "DELETE /talks/{id}" },
  { method: "POST", path: /^\/images\/?$/, route: "uploadImage", key: "POST /images" },
  { method: "DELETE", path: /^\/images\/([^/]+)$/, route: "deleteImage", key: "DELETE /images/{id}" },
  { method: "POST", path: /^\/audios\/?$/, route: "uploadAudio", key: "POST /audios" },
  { method: "DELETE", path: /^\/audios\/([^/]+)$/, route: "deleteAudio", key: "DELETE /audios/{id}" },
  { method: "GET", path: /^\/credits\/?$/, route: "credits", key: "GET /credits" },
];

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

const errorAnswer = (error: DIdError): Answer => ({
  status: error.status,
  body: error.body(),
  headers: error.headers,
});

function sendJson(response: ServerResponse, { status, body, headers = {} }: Answer): void {
  if (response.destroyed || response.writableEnded) return;
  if (body === undefined) {
    response.writeHead(status, headers);
    response.end();
    return;
  }
  const payload = JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(payload),
    ...headers,
  });
  response.end(payload);
}

/** Waits `ms`, ending early when the client leaves (or close() cuts the socket) so no timer outlives the fake. */
function delay(ms: number, response: ServerResponse): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    response.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** A malformed escape cannot name any talk or upload; kept raw, it simply answers 404. */
function pathId(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

export async function startFakeDId(options: FakeDIdOptions = {}): Promise<FakeDId> {
  const apiKey = options.apiKey ?? "fake-user:fake-secret";
  const separator = apiKey.indexOf(":");
  if (separator < 1) throw new RangeError('fake D-ID: apiKey must look like "user:secret"');
  // Real user ids are the auth provider's subject ("google-oauth2|…", "auth0|…").
  const userId = `auth0|${apiKey.slice(0, separator)}`;
  const allowHttpWebhooks = options.allowHttpWebhooks ?? false;
  const initialCredits = options.credits ?? 100;

  const initialBehavior = (): FakeDIdBehavior => {
    const fresh = defaultBehavior();
    applyPatch(fresh, options);
    return fresh;
  };
  let behavior = initialBehavior();
  let calls: Record<string, number> = {};
  let unauthorized = 0;
  let webhooks = new WebhookSender();
  let uploads = new UploadStore(userId);
  // Set once the port is known; no request can arrive before.
  let results!: ResultUrls;
  let talks!: TalkStore;
  let closing = false;

  const newTalkStore = (credits: number) =>
    new TalkStore({
      userId,
      // A live view of `behavior`, which reset() replaces.
      settings: {
        get queueMs() {
          return behavior.queueMs;
        },
        get renderMs() {
          return behavior.renderMs;
        },
        get maxInProgress() {
          return behavior.maxInProgress;
        },
        get overCapacity() {
          return behavior.overCapacity;
        },
      },
      credits,
      uploads,
      signResultUrl: (talkId) => results.sign(talkId, behavior.resultTtlMs),
      onFinal: (webhook, final, stale) => {
        if (webhook && !closing) webhooks.deliver(webhook, final, stale, { ...behavior.webhook });
      },
    });

  const resetState = () => {
    talks?.stop();
    webhooks.cancel();
    behavior = initialBehavior();
    calls = Object.fromEntries(API_ROUTES.map((spec) => [spec.key, 0]));
    unauthorized = 0;
    webhooks = new WebhookSender();
    uploads = new UploadStore(userId);
    talks = newTalkStore(initialCredits);
  };

  const setBehavior = (patch: FakeDIdBehaviorPatch) => {
    applyPatch(behavior, patch);
    if (patch.credits !== undefined) talks.setCredits(patch.credits);
    talks.admitWaiting();
  };

  const stats = (): FakeDIdStats => {
    const counters = talks.counters;
    return {
      calls: { ...calls },
      talksCreated: counters.talksCreated,
      creditsCharged: counters.creditsCharged,
      inProgress: counters.inProgress,
      maxInProgress: counters.maxInProgress,
      waiting: counters.waiting,
      talksByUserData: { ...counters.talksByUserData },
      createOrder: [...counters.createOrder],
      webhooksSent: webhooks.sent,
      webhookFailures: webhooks.failures,
      unauthorized,
    };
  };

  type Handler = (request: IncomingMessage, id: string, url: URL) => Promise<Answer> | Answer;
  const notFound = (what: string) => new DIdError(404, "NotFoundError", what);
  const handlers: Record<FakeDIdRoute, Handler> = {
    createTalk: async (request) => {
      const talkRequest = parseTalkRequest(await readJsonBody(request), { allowHttpWebhooks });
      return { status: 201, body: talks.create(talkRequest) };
    },
    getTalk: (_request, id) => {
      const view = talks.view(id);
      if (!view) throw notFound("not found");
      return { status: 200, body: view };
    },
    listTalks: (_request, _id, url) => ({
      status: 200,
      body: talks.list(url.searchParams.get("limit"), url.searchParams.get("token")),
    }),
    deleteTalk: (_request, id) => ({ status: 200, body: talks.remove(id) }),
    uploadImage: async (request) => ({ status: 201, body: await uploads.receive("image", request) }),
    uploadAudio: async (request) => ({ status: 201, body: await uploads.receive("audio", request) }),
    deleteImage: (_request, id) => {
      if (!uploads.delete("image", id)) throw notFound("image not found");
      return { status: 204 };
    },
    deleteAudio: (_request, id) => {
      if (!uploads.delete("audio", id)) throw notFound("audio not found");
      return { status: 204 };
    },
    credits: () => ({ status: 200, body: talks.creditsBody() }),
  };

  const runHandler = async (spec: RouteSpec, request: IncomingMessage, id: string, url: URL) => {
    try {
      return await handlers[spec.route](request, id, url);
    } catch (error) {
      if (error instanceof DIdError) return errorAnswer(error);
      throw error;
    }
  };

  /** Auth, then the route's scripted step, then the route itself; see FakeDIdStep for what each step does. */
  const serveApi = async (
    spec: RouteSpec,
    id: string,
    url: URL,
    request: IncomingMessage,
    response: ServerResponse,
  ) => {
    calls[spec.key] = (calls[spec.key] ?? 0) + 1;
    const wait = () => delay(behavior.latencyMs + behavior.routes[spec.route].latencyMs, response);
    const drop = () => request.socket.destroy();
    if (!authorized(request.headers.authorization, apiKey)) {
      unauthorized += 1;
      request.resume();
      await wait();
      sendJson(response, errorAnswer(errorForStatus(401)));
      return;
    }
    const step: FakeDIdStep = nextStep(behavior, spec.route);
    if (step === "drop-before" || typeof step === "number" || typeof step === "object") {
      request.resume();
      await wait();
      if (step === "drop-before") drop();
      else if (typeof step === "number") sendJson(response, errorAnswer(errorForStatus(step)));
      else sendJson(response, errorAnswer(errorForStatus(step.status, step.retryAfterSeconds)));
      return;
    }
    const answer = await runHandler(spec, request, pathId(id), url);
    if (step === "hang") return;
    await wait();
    if (step === "drop") drop();
    else sendJson(response, answer);
  };

  /** The S3 side of result_url: no D-ID auth, S3's XML errors (a deleted or unfinished talk has no object). */
  const serveResult = (url: URL, response: ServerResponse) => {
    const check = results.check(url);
    if ("xml" in check) {
      response.writeHead(check.status, { "content-type": "application/xml" });
      response.end(check.xml);
      return;
    }
    if (!talks.hasResult(check.talkId)) {
      response.writeHead(404, { "content-type": "application/xml" });
      response.end(s3Error("NoSuchKey", "The specified key does not exist."));
      return;
    }
    const video = fakeMp4(check.talkId);
    response.writeHead(200, { "content-type": "video/mp4", "content-length": video.length });
    response.end(video);
  };

  const serveFake = async (url: URL, request: IncomingMessage, response: ServerResponse) => {
    const route = `${request.method} ${url.pathname}`;
    if (route === "GET /__fake/stats") return sendJson(response, { status: 200, body: stats() });
    if (route === "POST /__fake/reset") {
      request.resume();
      resetState();
      return sendJson(response, { status: 204 });
    }
    if (route === "POST /__fake/behavior") {
      try {
        setBehavior(JSON.parse(await readBody(request)) as FakeDIdBehaviorPatch);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return sendJson(response, errorAnswer(new DIdError(400, "ValidationError", message)));
      }
      return sendJson(response, { status: 204 });
    }
    if (
      (request.method === "GET" || request.method === "HEAD") &&
      url.pathname.startsWith("/__fake/results/")
    ) {
      request.resume();
      return serveResult(url, response);
    }
    request.resume();
    sendJson(response, errorAnswer(new DIdError(404, "NotFoundError", "not found")));
  };

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://fake.invalid");
    const serving = url.pathname.startsWith("/__fake/")
      ? serveFake(url, request, response)
      : (async () => {
          for (const spec of API_ROUTES) {
            const match = request.method === spec.method ? spec.path.exec(url.pathname) : null;
            if (match) return serveApi(spec, match[1] ?? "", url, request, response);
          }
          request.resume();
          await delay(behavior.latencyMs, response);
          sendJson(response, errorAnswer(new DIdError(404, "NotFoundError", "not found")));
        })();
    serving.catch((error: unknown) => {
      // A body cut off mid-way lands here; nobody is left to answer.
      if (response.destroyed || closing) return;
      const description = error instanceof Error ? error.message : String(error);
      sendJson(response, errorAnswer(new DIdError(500, "InternalServerError", description)));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;
  results = new ResultUrls(url);
  resetState();

  let closed: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    apiKey,
    setBehavior,
    stats,
    talk: (id) => talks.view(id),
    upload: (id) => uploads.get(id),
    reset: resetState,
    close() {
      closing = true;
      talks.stop();
      webhooks.cancel();
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
