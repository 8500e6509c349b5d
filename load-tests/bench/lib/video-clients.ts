// Part A of bench:video: the replaced memo's naive D-ID client against Kogi's DIdClient, on the same fake.
import { once } from "node:events";
import { request } from "node:http";
import { crc32 } from "node:zlib";
import type { Talk, Uploaded, UploadFile, VideoProvider } from "@kogi/api/adapters/d-id/client";
import { createRedis } from "@kogi/api/adapters/redis";
import { Metrics } from "@kogi/api/observability/metrics";
import { createVideoServices } from "@kogi/api/video-wiring";
import { loadConfig } from "@kogi/shared/config";
import { createLogger } from "@kogi/shared/logger";
import { cleanups } from "./cleanup.js";
import { type Percentiles, percentiles } from "./closed-loop.js";
import type { Fixture } from "./fixture.js";

export type DIdCalls = Pick<VideoProvider, "getTalk" | "uploadImage">;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Models the replaced client as the memo measured it, before its optimisation: a new TCP connection per
 * call (`agent: false`: no keep-alive agent), one call at a time across all callers (a global mutex: every
 * call waits for the one before it), and the memo's retry loop (3 attempts, 2 s -> 10 s exponential backoff
 * on 5xx and timeouts). Same wire format as Kogi's client, so the fake does the same work for both.
 */
export class NaiveDIdClient implements DIdCalls {
  #last: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
  ) {}

  getTalk(id: string) {
    return this.#serialised(() => this.#withRetries<Talk>("GET", `/talks/${encodeURIComponent(id)}`));
  }

  uploadImage(file: UploadFile) {
    return this.#serialised(async () => {
      const form = new FormData();
      form.append("image", new Blob([file.bytes], { type: file.mimeType }), file.filename);
      const encoded = new Response(form);
      const body = Buffer.from(await encoded.arrayBuffer());
      return this.#withRetries<Uploaded>("POST", "/images", body, encoded.headers.get("content-type") ?? "");
    });
  }

  #serialised<T>(call: () => Promise<T>): Promise<T> {
    const run = this.#last.then(call);
    this.#last = run.catch(() => undefined);
    return run;
  }

  async #withRetries<T>(method: string, path: string, body?: Buffer, contentType?: string): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const { status, text } = await this.#once(method, path, body, contentType).catch((error: Error) => {
        if (error.message !== "timeout") throw error;
        return { status: 0, text: "" };
      });
      if (status >= 200 && status < 300) return JSON.parse(text) as T;
      if ((status !== 0 && status < 500) || attempt === 3) throw new Error(`D-ID ${status}: ${text}`);
      await sleep(Math.min(10_000, 2_000 * 2 ** (attempt - 1)));
    }
  }

  #once(method: string, path: string, body?: Buffer, contentType?: string) {
    return new Promise<{ status: number; text: string }>((resolve, reject) => {
      const headers: Record<string, string | number> = { authorization: `Basic ${this.apiKey}` };
      if (body) Object.assign(headers, { "content-type": contentType, "content-length": body.length });
      const outgoing = request(`${this.baseUrl}${path}`, { method, headers, agent: false, timeout: 30_000 });
      outgoing.on("response", (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          text += chunk;
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, text }));
        response.on("error", reject);
      });
      outgoing.on("timeout", () => outgoing.destroy(new Error("timeout")));
      outgoing.on("error", reject);
      outgoing.end(body);
    });
  }
}

/**
 * Kogi's D-ID client exactly as the api wires it (video-wiring.ts: undici keep-alive pool of
 * D_ID_POOL_CONNECTIONS, every call through the "d-id" Upstream with its Redis budget), without the runner.
 */
export async function kogiDIdClient(fixture: Fixture, fake: { url: string; apiKey: string }, rpm: number) {
  const config = loadConfig({
    ...fixture.env,
    // A prefix of its own: the api of part B keeps its budget apart.
    REDIS_PREFIX: `${fixture.env.REDIS_PREFIX}part-a:`,
    D_ID_API_KEY: fake.apiKey,
    D_ID_BASE_URL: fake.url,
    D_ID_RPM: String(rpm),
  });
  const redis = createRedis(config.REDIS_URL);
  const budgetRedis = createRedis(config.REDIS_URL, { budget: true });
  const logger = createLogger("silent", "kogi-bench-video");
  const video = createVideoServices(config, {
    pool: fixture.pool,
    redis,
    budgetRedis,
    metrics: new Metrics(),
    logger,
  });
  const { provider, calls } = video.videos;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await video.stop();
    await Promise.all(video.upstreams.map((upstream) => upstream.close()));
    redis.disconnect();
    budgetRedis.disconnect();
  };
  cleanups.push(close);
  if (!provider || !calls) throw new Error("createVideoServices built no D-ID client (D_ID_API_KEY unset?)");
  // Before the first call: an acquisition while ioredis is still connecting is decided in memory.
  const signal = AbortSignal.timeout(10_000);
  await Promise.all([redis, budgetRedis].map((r) => r.status === "ready" || once(r, "ready", { signal })));
  return {
    client: provider as DIdCalls,
    settings: { connections: config.D_ID_POOL_CONNECTIONS, rpm: config.D_ID_RPM },
    upstreamStats: () => calls.stats(),
    close,
  };
}

/** A PNG the fake takes: signature, a real IHDR chunk (1x1 RGBA), then zero padding to `size` bytes. */
export function paddedPng(size: number): UploadFile {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(1, 0);
  ihdr.writeUInt32BE(1, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const typeAndData = Buffer.concat([Buffer.from("IHDR"), ihdr]);
  const chunk = Buffer.alloc(4 + typeAndData.length + 4);
  chunk.writeUInt32BE(ihdr.length, 0);
  typeAndData.copy(chunk, 4);
  chunk.writeUInt32BE(crc32(typeAndData), 4 + typeAndData.length);
  const head = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk]);
  const bytes = Buffer.alloc(size);
  head.copy(bytes);
  return { bytes, mimeType: "image/png", filename: "bench.png" };
}

export interface CallRun {
  calls: number;
  errors: number;
  firstError?: string;
  seconds: number;
  callsPerSecond: number;
  latency: Percentiles | null;
}

/**
 * `callers` closed-loop callers, each making its next call as soon as its last one ends, until `maxCalls`
 * were started or `maxMs` passed; calls started before the end are awaited and counted.
 */
export async function runCallers(
  callers: number,
  limits: { maxCalls: number; maxMs: number },
  call: () => Promise<unknown>,
): Promise<CallRun> {
  const latencies: number[] = [];
  let started = 0;
  let errors = 0;
  let firstError: string | undefined;
  const begin = performance.now();
  const end = begin + limits.maxMs;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (started < limits.maxCalls && performance.now() < end) {
        started++;
        const callStarted = performance.now();
        try {
          await call();
          latencies.push(performance.now() - callStarted);
        } catch (error) {
          errors++;
          firstError ??= (error as Error).message.slice(0, 200);
        }
      }
    }),
  );
  const seconds = (performance.now() - begin) / 1000;
  return {
    calls: latencies.length,
    errors,
    firstError,
    seconds: Math.round(seconds * 100) / 100,
    callsPerSecond: Math.round((latencies.length / seconds) * 10) / 10,
    latency: percentiles(latencies),
  };
}
