// Loopback fake of the OpenAI API (chat, embeddings) in the real wire format, with scriptable faults.
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type FakeEndpoint = "chat" | "embeddings";

/** An HTTP error answer; OpenAI's error JSON, plus `Retry-After` on a 429 when `retryAfterSeconds` is set. */
export interface FakeFailure {
  /** Usually 429, 500, 502 or 503; any 400–599 is answered with a matching OpenAI-style body. */
  status: number;
  /** Sent as `Retry-After`; left out when unset, so a client's own backoff can be tested too. */
  retryAfterSeconds?: number;
  /** How many of the next requests fail; unset means every request until changed. */
  times?: number;
}

/** One scripted outcome: "ok", "hang", "drop", an error status, or an error with a `Retry-After`. */
export type FakeStep = "ok" | "hang" | "drop" | number | Omit<FakeFailure, "times">;

export interface FakeBehavior {
  /** Delay before every answer (success, error or drop); a hang never answers. */
  latencyMs: number;
  /** Extra uniformly random delay in [0, jitterMs) on top of latencyMs. */
  jitterMs: number;
  fail: FakeFailure | undefined;
  /** Accept the request and never answer, until the client gives up (or the fake closes). */
  hang: boolean;
  /** Destroy the socket without a response. */
  drop: boolean;
  /**
   * Outcomes consumed one per request, in front of fail/drop/hang; once empty the standing behaviour applies.
   * Setting it replaces whatever is left of the previous one.
   */
  sequence: FakeStep[];
}

export type FakeBehaviorPatch = Partial<Record<FakeEndpoint, Partial<FakeBehavior>>>;

export interface ChatRequestBody {
  model: string;
  messages: { role: string; content?: unknown }[];
  temperature?: number;
  n?: number;
  [key: string]: unknown;
}

export interface FakeOpenAIOptions {
  /** Defaults to 0 (any free port). */
  port?: number;
  /** Defaults to 127.0.0.1. */
  host?: string;
  /** When set, requests need `Authorization: Bearer <apiKey>` or get a 401; unset, any key will do. */
  apiKey?: string;
  /** Length of embeddings when the request has no `dimensions`; defaults to 1536. */
  dims?: number;
  /** Chat answer from the last user message; defaults to `"Course about: " + text`. Throwing answers 500. */
  rewrite?: (text: string, request: ChatRequestBody) => string | Promise<string>;
  chat?: Partial<FakeBehavior>;
  embeddings?: Partial<FakeBehavior>;
  /** Request records kept for stats() (oldest dropped first); counters stay exact. Defaults to 10,000. */
  recordLimit?: number;
}

/** The outcome the fake chose: "ok", "hang", "drop" or the HTTP status as a string ("401", "429"…). */
export type FakeOutcome = string;

export interface FakeRequestRecord {
  /** 1, 2, 3… across both endpoints, in the order the requests arrived (headers received). */
  seq: number;
  endpoint: FakeEndpoint;
  /** Chat: the last user message (what the rewrite sees). Embeddings: the first input. "" until read. */
  text: string;
  /** Chat: number of messages. Embeddings: number of inputs. */
  inputCount: number;
  model: string;
  /** Undefined while the body is still arriving or when the client left before it was read. */
  outcome: FakeOutcome | undefined;
  /** The client closed the connection before the fake answered (not counting drops or the fake closing). */
  clientDisconnected: boolean;
  arrivedAt: number;
  /** When the answer was written, the socket dropped or the client left; undefined while in flight. */
  finishedAt: number | undefined;
}

export interface FakeEndpointStats {
  total: number;
  inFlight: number;
  maxInFlight: number;
  /** Outcomes as chosen, whether or not the client stayed to receive them; "hang" counts when chosen. */
  outcomes: Record<FakeOutcome, number>;
  clientDisconnects: number;
  /** `text` of the requests whose client left before an answer, in the order they left (last recordLimit). */
  disconnected: string[];
  /** `text` of the requests in arrival order (last recordLimit), e.g. to check priority ordering. */
  arrivals: string[];
}

export interface FakeOpenAIStats {
  chat: FakeEndpointStats;
  embeddings: FakeEndpointStats;
  /** Requests to either endpoint in arrival order (copies of the last recordLimit). */
  requests: FakeRequestRecord[];
  /** Requests to routes the fake does not serve (answered 404). */
  unmatched: number;
}

export interface FakeOpenAI {
  /** Base URL including `/v1`, as the SDK's `baseURL` / OPENAI_BASE_URL expects. */
  readonly url: string;
  readonly port: number;
  /** Merges into the current behaviour of each endpoint named; setting `fail` restarts its `times` count. */
  setBehavior(patch: FakeBehaviorPatch): void;
  stats(): FakeOpenAIStats;
  /** Back to the behaviour given at start, with empty stats; requests in flight are no longer counted. */
  reset(): void;
  /** Stops listening and cuts every connection, hanging ones included. Safe to call twice. */
  close(): Promise<void>;
}

const DEFAULT_DIMS = 1536;
const DEFAULT_RECORD_LIMIT = 10_000;
const ENDPOINTS: readonly FakeEndpoint[] = ["chat", "embeddings"];
const ROUTES: Record<string, FakeEndpoint> = {
  "/v1/chat/completions": "chat",
  "/v1/embeddings": "embeddings",
};

const defaultRewrite = (text: string) => `Course about: ${text}`;

function defaultBehavior(): FakeBehavior {
  return { latencyMs: 0, jitterMs: 0, fail: undefined, hang: false, drop: false, sequence: [] };
}

/** A roughly English-sized token count; clients only read it for accounting. */
function tokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/**
 * The fake's embedding of `text`: a unit vector seeded by the text's SHA-256, so equal texts give equal
 * vectors in every process. Values are float32-exact, so the float and base64 encodings decode alike.
 */
export function fakeEmbedding(text: string, dims: number = DEFAULT_DIMS): number[] {
  const seed = createHash("sha256").update(text).digest();
  // sfc32: small, fast and good enough to make unrelated texts nearly orthogonal.
  let a = seed.readUInt32LE(0);
  let b = seed.readUInt32LE(4);
  let c = seed.readUInt32LE(8);
  let d = seed.readUInt32LE(12);
  const next = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  const vector = Array.from({ length: dims }, () => next() * 2 - 1);
  const norm = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0)) || 1;
  return vector.map((value) => Math.fround(value / norm));
}

function encodeBase64Float32(vector: number[]): string {
  const buffer = Buffer.alloc(vector.length * 4);
  vector.forEach((value, i) => {
    buffer.writeFloatLE(value, i * 4);
  });
  return buffer.toString("base64");
}

/** Bodies shaped like the real API's, so SDK error classes and messages come out the same. */
function errorBody(status: number, model: string): { message: string; type: string; code: string | null } {
  if (status === 429) {
    return {
      message: `Rate limit reached for ${model || "requests"} in organization org-fake on requests per min (RPM): Limit 3000, Used 3000, Requested 1. Please try again later.`,
      type: "requests",
      code: "rate_limit_exceeded",
    };
  }
  if (status === 503) {
    return { message: "The server is overloaded or not ready yet.", type: "server_error", code: null };
  }
  if (status >= 500) {
    return {
      message: "The server had an error while processing your request. Sorry about that!",
      type: "server_error",
      code: null,
    };
  }
  return { message: `Fake OpenAI error ${status}.`, type: "invalid_request_error", code: null };
}

function checkBehavior(endpoint: FakeEndpoint, patch: Partial<FakeBehavior>): void {
  const where = `fake OpenAI ${endpoint}`;
  const delay = (name: string, value: number | undefined) => {
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
      throw new RangeError(`${where}: ${name} must be a non-negative number`);
    }
  };
  const status = (value: number) => {
    if (!Number.isInteger(value) || value < 400 || value > 599) {
      throw new RangeError(`${where}: failure status must be an integer from 400 to 599, got ${value}`);
    }
  };
  delay("latencyMs", patch.latencyMs);
  delay("jitterMs", patch.jitterMs);
  if (patch.fail) {
    status(patch.fail.status);
    delay("fail.retryAfterSeconds", patch.fail.retryAfterSeconds);
    const times = patch.fail.times;
    if (times !== undefined && !(Number.isInteger(times) && times >= 0)) {
      throw new RangeError(`${where}: fail.times must be a non-negative integer`);
    }
  }
  for (const step of patch.sequence ?? []) {
    if (typeof step === "number") status(step);
    else if (typeof step === "object") {
      status(step.status);
      delay("sequence retryAfterSeconds", step.retryAfterSeconds);
    } else if (step !== "ok" && step !== "hang" && step !== "drop") {
      throw new RangeError(`${where}: unknown sequence step ${JSON.stringify(step)}`);
    }
  }
}

class BadRequest extends Error {}

interface Counters {
  total: number;
  inFlight: number;
  maxInFlight: number;
  outcomes: Record<FakeOutcome, number>;
  clientDisconnects: number;
  disconnected: string[];
}

function newCounters(): Counters {
  return { total: 0, inFlight: 0, maxInFlight: 0, outcomes: {}, clientDisconnects: 0, disconnected: [] };
}

/** Keeps the newest `limit` entries; drops in bulk so a long-running fake stays cheap. */
function pushCapped<T>(list: T[], item: T, limit: number): void {
  list.push(item);
  if (list.length > limit + Math.max(16, limit >> 3)) list.splice(0, list.length - limit);
}

function lastN<T>(list: T[], limit: number): T[] {
  return list.length > limit ? list.slice(list.length - limit) : list.slice();
}

function messageText(content: unknown): string {
  if (typeof content === "string") return content;
  // Content parts: [{ type: "text", text }, { type: "image_url", … }].
  if (Array.isArray(content)) {
    return content
      .map((part) => (part && typeof part === "object" && "text" in part ? String(part.text) : ""))
      .join("");
  }
  return "";
}

export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const defaultDims = options.dims ?? DEFAULT_DIMS;
  if (!Number.isInteger(defaultDims) || defaultDims < 1) {
    throw new RangeError("fake OpenAI: dims must be a positive integer");
  }
  const rewrite = options.rewrite ?? defaultRewrite;
  for (const endpoint of ENDPOINTS) checkBehavior(endpoint, options[endpoint] ?? {});

  const recordLimit = options.recordLimit ?? DEFAULT_RECORD_LIMIT;
  if (!Number.isInteger(recordLimit) || recordLimit < 0) {
    throw new RangeError("fake OpenAI: recordLimit must be a non-negative integer");
  }

  let behavior!: Record<FakeEndpoint, FakeBehavior>;
  let failsLeft!: Record<FakeEndpoint, number>;
  // Replaced (not cleared) by reset(), so requests from before a reset update only their own counters.
  let counters!: Record<FakeEndpoint, Counters>;
  let records: FakeRequestRecord[] = [];
  let unmatched = 0;
  let seq = 0;
  let closing = false;
  // Responses whose socket the fake itself destroyed, so their close is not mistaken for the client leaving.
  const dropped = new WeakSet<ServerResponse>();

  const applyPatch = (endpoint: FakeEndpoint, patch: Partial<FakeBehavior>) => {
    checkBehavior(endpoint, patch);
    const current = behavior[endpoint];
    Object.assign(current, patch);
    if (patch.sequence) current.sequence = [...patch.sequence];
    if ("fail" in patch) failsLeft[endpoint] = patch.fail?.times ?? Number.POSITIVE_INFINITY;
  };

  const resetState = () => {
    behavior = { chat: defaultBehavior(), embeddings: defaultBehavior() };
    failsLeft = { chat: 0, embeddings: 0 };
    counters = { chat: newCounters(), embeddings: newCounters() };
    records = [];
    unmatched = 0;
    for (const endpoint of ENDPOINTS) applyPatch(endpoint, options[endpoint] ?? {});
  };
  resetState();

  /** Sequence first, then a counted or standing failure, then drop, then hang. */
  const chooseStep = (endpoint: FakeEndpoint): FakeStep => {
    const current = behavior[endpoint];
    const scripted = current.sequence.shift();
    if (scripted !== undefined) return scripted;
    if (current.fail && failsLeft[endpoint] > 0) {
      failsLeft[endpoint] -= 1;
      const failure = current.fail;
      if (failsLeft[endpoint] === 0) current.fail = undefined;
      return failure;
    }
    if (current.drop) return "drop";
    if (current.hang) return "hang";
    return "ok";
  };

  const requestId = () => `req_${randomBytes(12).toString("hex")}`;

  const sendJson = (
    response: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    if (response.destroyed || response.writableEnded) return;
    const payload = JSON.stringify(body);
    response.writeHead(status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(payload),
      "x-request-id": requestId(),
      "openai-processing-ms": "1",
      ...headers,
    });
    response.end(payload);
  };

  const sendError = (
    response: ServerResponse,
    status: number,
    error: { message: string; type: string; code: string | null },
    headers: Record<string, string> = {},
  ) =>
    sendJson(
      response,
      status,
      { error: { message: error.message, type: error.type, param: null, code: error.code } },
      headers,
    );

  async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      throw new BadRequest(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.)",
      );
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new BadRequest("The request body must be a JSON object.");
    }
    return parsed as Record<string, unknown>;
  }

  async function chatAnswer(body: Record<string, unknown>, record: FakeRequestRecord) {
    if (typeof body.model !== "string" || !body.model)
      throw new BadRequest("you must provide a model parameter");
    if (!Array.isArray(body.messages) || body.messages.length === 0) {
      throw new BadRequest("Invalid 'messages': empty array. Expected an array with minimum length 1.");
    }
    if (body.stream) throw new BadRequest("The fake OpenAI server does not implement stream: true.");
    const request = body as ChatRequestBody;
    const n = typeof request.n === "number" && Number.isInteger(request.n) && request.n > 0 ? request.n : 1;
    const userMessages = request.messages.filter((message) => message?.role === "user");
    const text = messageText(userMessages[userMessages.length - 1]?.content);
    record.text = text;
    record.inputCount = request.messages.length;
    record.model = request.model;
    // Evaluated lazily: a request that fails, drops or hangs never calls the rewrite.
    return async () => {
      const content = await rewrite(text, request);
      const promptTokens = request.messages.reduce(
        (sum, message) => sum + tokens(messageText(message?.content)) + 4,
        0,
      );
      const completionTokens = tokens(content) * n;
      return {
        id: `chatcmpl-${randomBytes(15).toString("base64url")}`,
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model: request.model,
        choices: Array.from({ length: n }, (_, index) => ({
          index,
          message: { role: "assistant", content, refusal: null, annotations: [] },
          logprobs: null,
          finish_reason: "stop",
        })),
        usage: {
          prompt_tokens: promptTokens,
          completion_tokens: completionTokens,
          total_tokens: promptTokens + completionTokens,
        },
        system_fingerprint: "fp_fake",
      };
    };
  }

  async function embeddingsAnswer(body: Record<string, unknown>, record: FakeRequestRecord) {
    if (typeof body.model !== "string" || !body.model)
      throw new BadRequest("you must provide a model parameter");
    const raw = body.input;
    // Token arrays (number[] or number[][]) are legal input too; they are embedded by their JSON text.
    let texts: string[] = [];
    if (typeof raw === "string") texts = [raw];
    else if (Array.isArray(raw) && raw.length > 0 && raw.every((item) => typeof item === "number")) {
      texts = [JSON.stringify(raw)];
    } else if (Array.isArray(raw)) {
      texts = raw.map((item) => (typeof item === "string" ? item : JSON.stringify(item)));
    }
    if (texts.length === 0 || texts.some((text) => text === "")) {
      // The real API rejects empty strings and empty lists rather than embedding them.
      throw new BadRequest(
        "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
      );
    }
    if (texts.length > 2048) throw new BadRequest("'$.input' must have at most 2048 items.");
    const dims = body.dimensions === undefined ? defaultDims : body.dimensions;
    if (typeof dims !== "number" || !Number.isInteger(dims) || dims < 1) {
      throw new BadRequest("Invalid 'dimensions': must be a positive integer.");
    }
    const format = body.encoding_format ?? "float";
    if (format !== "float" && format !== "base64") {
      throw new BadRequest(
        `Invalid value for 'encoding_format': '${String(format)}'. Expected 'float' or 'base64'.`,
      );
    }
    record.text = texts[0] ?? "";
    record.inputCount = texts.length;
    record.model = body.model;
    const model = body.model;
    return async () => {
      const promptTokens = texts.reduce((sum, text) => sum + tokens(text), 0);
      return {
        object: "list",
        data: texts.map((text, index) => {
          const vector = fakeEmbedding(text, dims);
          return {
            object: "embedding",
            index,
            embedding: format === "base64" ? encodeBase64Float32(vector) : vector,
          };
        }),
        model,
        usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
      };
    };
  }

  async function handle(
    endpoint: FakeEndpoint,
    request: IncomingMessage,
    response: ServerResponse,
    record: FakeRequestRecord,
    setOutcome: (outcome: FakeOutcome) => void,
  ) {
    const body = await readJson(request);
    if (options.apiKey !== undefined) {
      const header = request.headers.authorization;
      if (!header?.startsWith("Bearer ")) {
        sendError(response, 401, {
          message:
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
          type: "invalid_request_error",
          code: null,
        });
        setOutcome("401");
        return;
      }
      const key = header.slice("Bearer ".length);
      if (key !== options.apiKey) {
        sendError(response, 401, {
          message: `Incorrect API key provided: ${key.slice(0, 3)}***${key.slice(-4)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
          type: "invalid_request_error",
          code: "invalid_api_key",
        });
        setOutcome("401");
        return;
      }
    }
    const answer =
      endpoint === "chat" ? await chatAnswer(body, record) : await embeddingsAnswer(body, record);
    if (response.destroyed) return;

    let step = chooseStep(endpoint);
    let payload: unknown;
    let failureMessage: string | undefined;
    if (step === "ok") {
      try {
        payload = await answer();
      } catch (error) {
        step = 500;
        failureMessage = `The fake's rewrite threw: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
    setOutcome(typeof step === "string" ? step : String(typeof step === "number" ? step : step.status));
    if (step === "hang") return;

    const { latencyMs, jitterMs } = behavior[endpoint];
    const delay = latencyMs + Math.random() * jitterMs;
    if (delay > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        // The client leaving ends the wait early; nothing is written to a closed response.
        response.once("close", () => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (response.destroyed || response.writableEnded) return;
    }

    if (step === "drop") {
      dropped.add(response);
      request.socket.destroy();
      return;
    }
    if (step === "ok") {
      sendJson(response, 200, payload);
      return;
    }
    const failure = typeof step === "number" ? { status: step } : step;
    const headers: Record<string, string> = {};
    if (failure.status === 429) {
      headers["x-ratelimit-limit-requests"] = "3000";
      headers["x-ratelimit-remaining-requests"] = "0";
      if (failure.retryAfterSeconds !== undefined) {
        headers["retry-after"] = String(failure.retryAfterSeconds);
        headers["x-ratelimit-reset-requests"] = `${failure.retryAfterSeconds}s`;
      }
    } else if (failure.retryAfterSeconds !== undefined) {
      headers["retry-after"] = String(failure.retryAfterSeconds);
    }
    const error = errorBody(failure.status, record.model);
    sendError(response, failure.status, { ...error, message: failureMessage ?? error.message }, headers);
  }

  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0] ?? "/";
    const endpoint = request.method === "POST" ? ROUTES[path] : undefined;
    if (!endpoint) {
      unmatched += 1;
      request.resume();
      sendError(response, 404, {
        message: `Invalid URL (${request.method} ${path})`,
        type: "invalid_request_error",
        code: null,
      });
      return;
    }

    seq += 1;
    const own = counters[endpoint];
    const record: FakeRequestRecord = {
      seq,
      endpoint,
      text: "",
      inputCount: 0,
      model: "",
      outcome: undefined,
      clientDisconnected: false,
      arrivedAt: Date.now(),
      finishedAt: undefined,
    };
    pushCapped(records, record, recordLimit);
    own.total += 1;
    own.inFlight += 1;
    own.maxInFlight = Math.max(own.maxInFlight, own.inFlight);
    const setOutcome = (outcome: FakeOutcome) => {
      record.outcome = outcome;
      own.outcomes[outcome] = (own.outcomes[outcome] ?? 0) + 1;
    };

    // `close` fires both after a written answer and when the connection goes away first; only the latter,
    // and only when neither the fake dropped the socket nor is shutting down, is the client leaving.
    response.once("close", () => {
      own.inFlight -= 1;
      record.finishedAt = Date.now();
      if (response.writableFinished || closing || dropped.delete(response)) return;
      record.clientDisconnected = true;
      own.clientDisconnects += 1;
      pushCapped(own.disconnected, record.text, recordLimit);
    });

    handle(endpoint, request, response, record, setOutcome).catch((error: unknown) => {
      if (error instanceof BadRequest) {
        setOutcome("400");
        sendError(response, 400, { message: error.message, type: "invalid_request_error", code: null });
        return;
      }
      // A body cut off mid-way lands here too; the close listener has already counted the disconnect.
      if (response.destroyed) return;
      setOutcome("500");
      sendError(response, 500, errorBody(500, record.model));
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

  const endpointStats = (endpoint: FakeEndpoint): FakeEndpointStats => {
    const own = counters[endpoint];
    return {
      total: own.total,
      inFlight: own.inFlight,
      maxInFlight: own.maxInFlight,
      outcomes: { ...own.outcomes },
      clientDisconnects: own.clientDisconnects,
      disconnected: lastN(own.disconnected, recordLimit),
      arrivals: lastN(
        records.filter((record) => record.endpoint === endpoint),
        recordLimit,
      ).map((record) => record.text),
    };
  };

  let closed: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}/v1`,
    port: address.port,
    setBehavior(patch) {
      for (const endpoint of ENDPOINTS) {
        const part = patch[endpoint];
        if (part) applyPatch(endpoint, part);
      }
    },
    stats: () => ({
      chat: endpointStats("chat"),
      embeddings: endpointStats("embeddings"),
      requests: lastN(records, recordLimit).map((record) => ({ ...record })),
      unmatched,
    }),
    reset: resetState,
    close() {
      closing = true;
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
