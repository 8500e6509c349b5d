// The D-ID client: one undici keep-alive pool, every call through the outbound toolkit's "d-id" upstream.
import { parseRetryAfterMs, UpstreamHttpError } from "@kogi/shared/outbound/errors";
import type { Priority, Upstream } from "@kogi/shared/outbound/upstream";
import { type Dispatcher, FormData, Pool } from "undici";
import { DIdApiError, type DIdErrorBody } from "./errors.js";

export type TalkStatus = "created" | "started" | "done" | "error" | "rejected";
export const TERMINAL_TALK_STATUSES: readonly TalkStatus[] = ["done", "error", "rejected"];

/** The parts of D-ID's GetTalkDto Kogi reads (research §2.4). */
export interface Talk {
  id: string;
  status: TalkStatus;
  created_at?: string;
  result_url?: string;
  duration?: number;
  user_data?: string;
  error?: { kind?: string; description?: string; details?: unknown };
}

export type TalkScript =
  | { type: "text"; input: string; provider?: { type: string; voice_id: string } }
  | { type: "audio"; audio_url: string };

export interface CreateTalkBody {
  source_url: string;
  script: TalkScript;
  config?: Record<string, unknown>;
  /** Kogi's job id: D-ID has no idempotency key, so this is how an unknown outcome is reconciled. */
  user_data: string;
  webhook?: string;
}

export interface UploadFile {
  bytes: Buffer;
  mimeType: string;
  filename: string;
}

export interface Uploaded {
  id: string;
  url: string;
  [field: string]: unknown;
}

export interface CallContext {
  priority?: Priority;
  signal?: AbortSignal;
}

export interface DIdClientOptions {
  baseUrl: string;
  /** `API_USERNAME:API_PASSWORD`, sent verbatim after `Basic ` as D-ID documents (research §1). */
  apiKey: string;
  connections: number;
  keepAliveMs: number;
}

/** The video routes and job runner depend on this, not on the HTTP client. */
export interface VideoProvider {
  createTalk(body: CreateTalkBody, context?: CallContext & { since?: Date }): Promise<{ id: string }>;
  getTalk(id: string, context?: CallContext): Promise<Talk>;
  /** The talk carrying this user_data, created after `since` (newest first, a few pages at most). */
  findTalkByUserData(userData: string, since: Date, context?: CallContext): Promise<Talk | undefined>;
  uploadImage(file: UploadFile, context?: CallContext): Promise<Uploaded>;
  uploadAudio(file: UploadFile, context?: CallContext): Promise<Uploaded>;
  close(): Promise<void>;
}

// How far back a reconciliation pages through GET /talks (100 per page, newest first).
const RECONCILE_MAX_PAGES = 10;
// Clock skew allowed between us and D-ID when comparing created_at with our submit time.
const RECONCILE_SKEW_MS = 5 * 60_000;

/**
 * After a refused connection or a 429 no talk was created; after anything else that failed (timeout,
 * dropped connection, 5xx), D-ID may have created one, so a retry must look first.
 */
function outcomeUnknown(error: unknown): boolean {
  if (error instanceof UpstreamHttpError && error.status === 429) return false;
  const { code, cause } = (error ?? {}) as { code?: string; cause?: { code?: string } };
  return code !== "ECONNREFUSED" && cause?.code !== "ECONNREFUSED";
}

export class DIdClient implements VideoProvider {
  readonly #pool: Pool;
  readonly #basePath: string;
  readonly #authorization: string;

  constructor(
    readonly options: DIdClientOptions,
    readonly upstream: Upstream,
  ) {
    const base = new URL(options.baseUrl);
    this.#basePath = base.pathname.replace(/\/$/, "");
    this.#authorization = `Basic ${options.apiKey}`;
    this.#pool = new Pool(base.origin, {
      connections: options.connections,
      keepAliveTimeout: options.keepAliveMs,
      keepAliveMaxTimeout: options.keepAliveMs,
      connect: { timeout: 5_000 },
    });
  }

  createTalk(body: CreateTalkBody, context: CallContext & { since?: Date } = {}): Promise<{ id: string }> {
    const since = context.since ?? new Date();
    return this.upstream.call(
      ({ signal }) => this.#send<{ id: string }>("POST", "/talks", { json: body, signal }),
      {
        priority: context.priority,
        signal: context.signal,
        beforeRetry: async (error) => {
          if (!outcomeUnknown(error)) return undefined;
          const found = await this.findTalkByUserData(body.user_data, since, context);
          return found ? { value: { id: found.id } } : undefined;
        },
      },
    );
  }

  getTalk(id: string, context: CallContext = {}): Promise<Talk> {
    return this.upstream.call(
      ({ signal }) => this.#send<Talk>("GET", `/talks/${encodeURIComponent(id)}`, { signal }),
      context,
    );
  }

  async findTalkByUserData(userData: string, since: Date, context: CallContext = {}) {
    const oldest = since.getTime() - RECONCILE_SKEW_MS;
    let token: string | undefined;
    for (let page = 0; page < RECONCILE_MAX_PAGES; page++) {
      const query = `/talks?limit=100${token ? `&token=${encodeURIComponent(token)}` : ""}`;
      const list = await this.upstream.call(
        ({ signal }) => this.#send<{ talks: Talk[]; token?: string }>("GET", query, { signal }),
        context,
      );
      const found = list.talks.find((talk) => talk.user_data === userData);
      if (found) return found;
      const last = list.talks.at(-1)?.created_at;
      if (!list.token || (last && Date.parse(last) < oldest)) return undefined;
      token = list.token;
    }
    return undefined;
  }

  uploadImage(file: UploadFile, context: CallContext = {}): Promise<Uploaded> {
    return this.#upload("/images", "image", file, context);
  }

  uploadAudio(file: UploadFile, context: CallContext = {}): Promise<Uploaded> {
    return this.#upload("/audios", "audio", file, context);
  }

  credits(context: CallContext = {}) {
    return this.upstream.call(
      ({ signal }) => this.#send<{ remaining: number; total: number }>("GET", "/credits", { signal }),
      context,
    );
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }

  /** The bytes are in memory (bounded by the upload limits), so every retry can send them again. */
  #upload(path: string, field: string, file: UploadFile, context: CallContext) {
    return this.upstream.call(({ signal }) => {
      const form = new FormData();
      form.append(field, new Blob([file.bytes], { type: file.mimeType }), file.filename);
      return this.#send<Uploaded>("POST", path, { form, signal });
    }, context);
  }

  async #send<T>(
    method: Dispatcher.HttpMethod,
    path: string,
    { json, form, signal }: { json?: unknown; form?: FormData; signal: AbortSignal },
  ): Promise<T> {
    const headers: Record<string, string> = {
      authorization: this.#authorization,
      accept: "application/json",
    };
    if (json !== undefined) headers["content-type"] = "application/json";
    const response = await this.#pool.request({
      method,
      path: this.#basePath + path,
      headers,
      body: json !== undefined ? JSON.stringify(json) : form,
      signal,
    });
    const text = await response.body.text();
    if (response.statusCode >= 200 && response.statusCode < 300) return (text ? JSON.parse(text) : {}) as T;
    let body: DIdErrorBody | undefined;
    try {
      body = JSON.parse(text) as DIdErrorBody;
    } catch {
      body = undefined; // a proxy's HTML 502, or an empty 429: the status says enough
    }
    const retryAfterMs = parseRetryAfterMs({
      get: (name) => {
        const value = response.headers[name];
        return Array.isArray(value) ? value[0] : value;
      },
    });
    throw new DIdApiError(response.statusCode, body, retryAfterMs);
  }
}
