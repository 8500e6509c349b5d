// A real sidecar process (vector-worker's main.ts on a spare port) SIGKILLed under a bounded load of answers
// and searches: answers get 503 vector_unavailable with Retry-After (never a 500, never another code),
// structured search never needs the sidecar, /ready says degraded, and answers come back by themselves.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "@kogi/shared/config";
import { buildIndex } from "@kogi/vector-worker/build-index";
import { embedderForBuild } from "@kogi/vector-worker/embedders";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateCatalog } from "../catalog/generator.js";
import { createHarness, type Harness } from "../testutil/harness.js";
import { freePort, waitFor } from "../testutil/redis-server.js";
import { type SidecarProcess, sidecarProcess } from "../testutil/sidecar-process.js";
import { listen } from "../testutil/video-harness.js";

interface Seen {
  route: "answer" | "search";
  status: number;
  code?: string;
  retryAfter: string | null;
  at: number;
}

let h: Harness;
let server: Awaited<ReturnType<typeof listen>>;
let sidecar: SidecarProcess;
let indexDir = "";

beforeAll(async () => {
  indexDir = await mkdtemp(join(tmpdir(), "kogi-vector-fault-"));
  const port = await freePort();
  h = await createHarness({
    env: {
      VECTOR_URL: `http://127.0.0.1:${port}`,
      VECTOR_TIMEOUT_MS: "1000",
      READY_PROBE_TIMEOUT_MS: "400",
      EMBEDDINGS_PROVIDER: "local",
    },
  });
  await h.importTerms(generateCatalog({ courses: 80, seed: 11 }).terms);
  await buildIndex({
    databaseUrl: h.config.DATABASE_URL,
    dir: indexDir,
    embedder: embedderForBuild(loadConfig({ EMBEDDINGS_PROVIDER: "local" })),
  });
  sidecar = sidecarProcess({ indexDir, port, databaseUrl: h.config.DATABASE_URL });
  await sidecar.start();
  server = await listen(h.app);
}, 120_000);

afterAll(async () => {
  await sidecar?.kill();
  await server?.close();
  await h?.close().catch(() => undefined);
  if (indexDir) await rm(indexDir, { recursive: true, force: true });
});

let n = 0;
/** A question (or search) no cache has seen: an answer must reach the sidecar to embed and search. */
async function call(route: Seen["route"]): Promise<Seen> {
  n++;
  const body =
    route === "answer" ? { question: `an introduction to programming, take ${n}` } : { keyword: `w${n}` };
  const response = await fetch(`${server.url}/v1/${route === "answer" ? "answer" : "courses/search"}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as { code?: string };
  return {
    route,
    status: response.status,
    code: json.code,
    retryAfter: response.headers.get("retry-after"),
    at: Date.now(),
  };
}

/** Two answer clients and two search clients, each asking again as soon as it has its answer. */
function startLoad(seen: Seen[]) {
  let stop = false;
  const client = async (route: Seen["route"]) => {
    while (!stop && seen.length < 20_000) seen.push(await call(route));
  };
  const clients = Promise.all([client("answer"), client("answer"), client("search"), client("search")]);
  return async () => {
    stop = true;
    await clients;
  };
}

const answers = (seen: Seen[]) => seen.filter((s) => s.route === "answer");
const readiness = async () =>
  (await (await fetch(`${server.url}/ready`)).json()) as {
    status: string;
    checks: { vector: { ok: boolean } };
  };

describe("the vector sidecar killed under load", () => {
  it("answers 503 vector_unavailable with Retry-After, keeps searches at 200, and recovers after a restart", async () => {
    const seen: Seen[] = [];
    const stopLoad = startLoad(seen);
    let restartedAt = 0;
    try {
      await waitFor(
        () => answers(seen).filter((s) => s.status === 200).length >= 4,
        "answers before the kill",
      );
      await sidecar.kill();
      const killedAt = seen.length;
      await waitFor(
        () => answers(seen.slice(killedAt)).filter((s) => s.status === 503).length >= 8,
        "answers to fail while the sidecar is down",
      );
      const down = await fetch(`${server.url}/ready`);
      expect(down.status).toBe(200);
      const downBody = (await down.json()) as Awaited<ReturnType<typeof readiness>>;
      expect(downBody.status).toBe("degraded");
      expect(downBody.checks.vector.ok).toBe(false);

      await sidecar.start();
      restartedAt = Date.now();
      const since = seen.length;
      // Generous for a loaded machine; on a quiet one the first answer after the restart succeeds.
      await waitFor(
        () =>
          answers(seen.slice(since)).slice(-4).length === 4 &&
          answers(seen.slice(since))
            .slice(-4)
            .every((s) => s.status === 200),
        "answers to succeed again without intervention",
        20_000,
      );
    } finally {
      await stopLoad();
    }
    const recoveredAt = answers(seen).find((s) => s.at >= restartedAt && s.status === 200)?.at ?? 0;
    console.log(
      `sidecar killed: ${answers(seen).length} answers (${answers(seen).filter((s) => s.status !== 200).length} failed), ` +
        `${seen.length - answers(seen).length} searches; first answer ${recoveredAt - restartedAt} ms after the restart`,
    );
    expect(recoveredAt - restartedAt).toBeLessThan(10_000);

    const searches = seen.filter((s) => s.route === "search");
    expect(searches.length).toBeGreaterThan(0);
    expect(searches.filter((s) => s.status !== 200)).toEqual([]);
    const failed = answers(seen).filter((s) => s.status !== 200);
    expect(failed.length).toBeGreaterThanOrEqual(8);
    for (const failure of failed)
      expect(failure).toMatchObject({
        status: 503,
        code: "vector_unavailable",
        retryAfter: expect.stringMatching(/^\d+$/),
      });
    await waitFor(async () => (await readiness()).status === "ready", "/ready to say ready again");
  }, 90_000);
});
