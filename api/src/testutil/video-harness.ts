// Video test harness: the fake D-ID on loopback, an isolated app wired to it, and two API keys.
import { type FakeDIdOptions, startFakeDId } from "@kogi/shared/fakes/d-id-server";
import { createHarness, type HarnessOptions } from "./harness.js";
import { waitFor } from "./redis-server.js";

export const KEY_A = "test-key-a-0123456789";
export const KEY_B = "test-key-b-0123456789";

/** Short timings so jobs finish in well under a second; tests override what they probe. */
export function videoEnv(fake: { url: string; apiKey: string }): Record<string, string> {
  return {
    D_ID_API_KEY: fake.apiKey,
    D_ID_BASE_URL: fake.url,
    VIDEO_API_KEYS: `${KEY_A},${KEY_B}`,
    D_ID_RETRY_INITIAL_MS: "20",
    D_ID_RETRY_MAX_MS: "100",
    D_ID_POLL_INITIAL_MS: "30",
    D_ID_POLL_MAX_MS: "150",
    D_ID_ATTEMPT_TIMEOUT_MS: "1500",
    VIDEO_RUNNER_POLL_MS: "100",
    VIDEO_JOB_LEASE_MS: "3000",
    VIDEO_WEBHOOK_SIGNING_SECRET: "test-signing-secret-0123456789",
  };
}

export const textVideo = (text = "Welcome to CS 101, an introduction to computing.", extra: object = {}) => ({
  sourceUrl: "https://example.edu/photos/lecturer.jpg",
  script: { text },
  ...extra,
});

export async function createVideoHarness(
  options: { fake?: FakeDIdOptions; env?: Record<string, string> } & Omit<HarnessOptions, "env"> = {},
) {
  const fake = await startFakeDId({ allowHttpWebhooks: true, queueMs: 40, renderMs: 80, ...options.fake });
  const harness = await createHarness({ ...options, env: { ...videoEnv(fake), ...options.env } });
  const auth = (key = KEY_A) => ({ authorization: `Bearer ${key}` });
  const video = {
    fake,
    auth,
    async create(body: unknown, headers: Record<string, string> = {}, key = KEY_A) {
      const response = await harness.request("/v1/videos", {
        json: body,
        headers: { ...auth(key), ...headers },
      });
      return { response, body: (await response.json()) as VideoBody };
    },
    async get(id: string, key = KEY_A, headers: Record<string, string> = {}) {
      const response = await harness.request(`/v1/videos/${id}`, { headers: { ...auth(key), ...headers } });
      return { response, body: (await response.json()) as VideoBody };
    },
    /** Waits (long-polling) until the job is in one of `statuses`. */
    async until(id: string, statuses: string[], timeoutMs = 20_000) {
      let last: VideoBody | undefined;
      await waitFor(
        async () => {
          last = (await video.get(id, KEY_A, { prefer: "wait=2" })).body;
          return statuses.includes(last.status);
        },
        `video ${id} to be ${statuses.join(" or ")} (last: ${JSON.stringify(last)})`,
        timeoutMs,
      );
      return last as VideoBody;
    },
  };
  return {
    ...harness,
    video,
    async close() {
      await harness.close();
      await fake.close();
    },
  };
}

export type VideoHarness = Awaited<ReturnType<typeof createVideoHarness>>;

export interface VideoBody {
  id: string;
  status: string;
  priority: string;
  talkId: string | null;
  talkStatus: string | null;
  resultUrl: string | null;
  resultExpiresAt: string | null;
  duration: number | null;
  error: { code: string; detail: string } | null;
  attempts: number;
  webhook: { url: string; state: string; attempts: number } | null;
  createdAt: string;
  finishedAt: string | null;
  code?: string;
  detail?: string;
  errors?: { field: string; message: string }[];
}

/** Serves the harness's app on a real loopback port: uploads stream from a real socket. */
export async function listen(
  app: { fetch: (request: Request, env?: unknown) => Response | Promise<Response> },
  port = 0,
) {
  const { serve } = await import("@hono/node-server");
  return new Promise<{ url: string; close: () => Promise<void> }>((resolve) => {
    const server = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, (info) =>
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
          }),
      }),
    );
  });
}

/** Bytes that start like the real format (magic bytes) and are `size` long. */
export function fakeFile(kind: "png" | "jpeg" | "wav", size: number): Buffer {
  const bytes = Buffer.alloc(size, 7);
  const header =
    kind === "png"
      ? Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52])
      : kind === "jpeg"
        ? Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0])
        : Buffer.concat([Buffer.from("RIFF"), Buffer.from([0x24, 0, 0, 0]), Buffer.from("WAVEfmt ")]);
  header.copy(bytes);
  return bytes;
}
