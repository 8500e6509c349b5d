// A real api process SIGKILLed while it holds queued, submitting and processing video jobs: a second
// process takes every job over once the leases expire, reconciles the POST /talks whose answer never
// came instead of sending it again, and every job ends done with exactly one paid talk.
import { type FakeDId, startFakeDId } from "@kogi/shared/fakes/d-id-server";
import type { Pool } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ApiProcess,
  cleanIsolatedState,
  isolatedState,
  jobRows,
  killAll,
  postVideo,
  startApiProcess,
  testPool,
} from "../testutil/api-process.js";
import { waitFor } from "../testutil/redis-server.js";
import { KEY_A, textVideo, videoEnv } from "../testutil/video-harness.js";

const state = isolatedState("crash");
const started: ApiProcess[] = [];
let fake: FakeDId;
let pool: Pool | undefined;

beforeAll(async () => {
  // Long renders so A still holds its talks when it dies; the third POST /talks creates its talk and hangs.
  fake = await startFakeDId({
    allowHttpWebhooks: true,
    queueMs: 0,
    renderMs: 4_000,
    routes: { createTalk: { sequence: ["ok", "ok", "hang"] } },
  });
});

afterAll(async () => {
  await killAll(started);
  await pool?.end();
  await fake?.close();
  await cleanIsolatedState(state);
});

const env = (overrides: Record<string, string> = {}) => ({
  ...videoEnv(fake),
  DATABASE_URL: state.databaseUrl,
  REDIS_PREFIX: state.redisPrefix,
  D_ID_MAX_CONCURRENCY: "3",
  VIDEO_JOB_LEASE_MS: "2000",
  ...overrides,
});

describe("a crashed api process", () => {
  it("leaves no job behind and no talk paid twice: the next process reconciles and finishes them all", async () => {
    // A's attempt timeout outlives the test, so the hung POST is still unanswered when A is killed.
    const a = await startApiProcess("A", env({ D_ID_ATTEMPT_TIMEOUT_MS: "60000" }), started);
    pool = testPool(state.databaseUrl);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++)
      ids.push(await postVideo(a.url, KEY_A, textVideo(`Lecture ${i}: an introduction to computing.`)));

    // Two talks rendering, one POST /talks whose talk exists at D-ID but whose answer never came, and
    // three jobs still waiting for a render slot.
    let hung: string | undefined;
    await waitFor(
      async () => {
        const rows = await jobRows(pool as Pool);
        const talks = fake.stats().talksByUserData;
        const of = (status: string) => rows.filter((row) => row.status === status);
        const submitting = of("submitting");
        hung = submitting.find((row) => talks[row.id] === 1)?.id;
        return (
          of("processing").length === 2 && submitting.length === 1 && !!hung && of("queued").length === 3
        );
      },
      "A to hold 2 processing, 1 hung submitting and 3 queued jobs",
      15_000,
    );
    expect(fake.stats().talksCreated).toBe(3);
    expect(fake.stats().calls["POST /talks"]).toBe(3);
    await a.kill("SIGKILL");
    expect(a.child.signalCode).toBe("SIGKILL");
    // Nothing finished before the crash: every talk was still rendering.
    expect(fake.stats().inProgress).toBe(3);

    const b = await startApiProcess("B", env(), started);
    await waitFor(
      async () => (await jobRows(pool as Pool)).every((row) => row.status === "done"),
      "B to finish every job",
      30_000,
    );

    const rows = await jobRows(pool as Pool);
    expect(rows.map((row) => row.id).sort()).toEqual([...ids].sort());
    const stats = fake.stats();
    for (const id of ids) expect(stats.talksByUserData[id], `talks for ${id}`).toBe(1);
    expect(stats.talksCreated).toBe(6);
    expect(stats.creditsCharged).toBe(6);
    // B sent only the three queued jobs' POSTs; the hung one was found by user_data in GET /talks.
    expect(stats.calls["POST /talks"]).toBe(6);
    expect(stats.calls["GET /talks"]).toBeGreaterThanOrEqual(1);
    expect(rows.find((row) => row.id === hung)?.attempts).toBe(2);
    // B finished all six (A died before any ended) and every job went through B's runner.
    const finished = b.logs("video job finished");
    expect(finished.map((line) => line.jobId).sort()).toEqual([...ids].sort());
    expect(a.logs("video job finished")).toHaveLength(0);

    // Each done job serves its result over the API too.
    const response = await fetch(`${b.url}/v1/videos/${hung}`, {
      headers: { authorization: `Bearer ${KEY_A}` },
    });
    const view = (await response.json()) as { status: string; resultUrl: string | null };
    expect(view.status).toBe("done");
    expect(view.resultUrl).toBeTruthy();
  });
});
