// D_ID_MAX_CONCURRENCY is one budget for every api process: two real processes sharing Redis never
// have more talks rendering at D-ID than the limit, and both do the work. Under contention, the next
// talk submitted is the highest-priority job waiting, first come first served within a priority.
import { type FakeDId, startFakeDId } from "@kogi/shared/fakes/d-id-server";
import type { Slot } from "@kogi/shared/outbound/upstream";
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
import { createVideoHarness, KEY_A, KEY_B, textVideo, videoEnv } from "../testutil/video-harness.js";

interface RenderStats {
  name: string;
  backend: string;
  active: number;
}

async function renders(api: ApiProcess): Promise<RenderStats> {
  const stats = (await (await fetch(`${api.url}/v1/stats`)).json()) as { upstreams: RenderStats[] };
  const found = stats.upstreams.find((u) => u.name === "d-id-renders");
  if (!found) throw new Error(`no d-id-renders upstream in ${api.name}'s /v1/stats`);
  return found;
}

describe("two api processes, one render budget", () => {
  const state = isolatedState("budget");
  const started: ApiProcess[] = [];
  let fake: FakeDId;
  let pool: Pool | undefined;

  beforeAll(async () => {
    // The first three talks render long enough to be seen together; the rest take 500 ms.
    fake = await startFakeDId({ allowHttpWebhooks: true, queueMs: 0, renderMs: 3_000 });
  });

  afterAll(async () => {
    await killAll(started);
    await pool?.end();
    await fake?.close();
    await cleanIsolatedState(state);
  });

  it("never renders more than D_ID_MAX_CONCURRENCY talks at once, and both processes take jobs", async () => {
    const env = {
      ...videoEnv(fake),
      DATABASE_URL: state.databaseUrl,
      REDIS_PREFIX: state.redisPrefix,
      D_ID_MAX_CONCURRENCY: "3",
      // Long enough that a process paused below for a moment keeps its job leases and render slots.
      VIDEO_JOB_LEASE_MS: "6000",
    };
    // One after the other: both run the migrations otherwise, which is safe but slower.
    const a = await startApiProcess("A", env, started);
    const b = await startApiProcess("B", env, started);
    pool = testPool(state.databaseUrl);
    const runnerOf = (api: ApiProcess) => `:${api.child.pid}:`;
    // Job id -> the runner rendering it, once its talk exists.
    const owners = async () =>
      Object.fromEntries(
        (await jobRows(pool as Pool))
          .filter((row) => row.status === "processing")
          .map((row) => [row.id, row.lease_owner ?? ""]),
      );

    // A freed slot goes to the process that freed it whenever that process has a job waiting (its own
    // release wakes its runner at once; the other one polls), so who ends up with the slots at the start
    // is a race. Settle it: A takes two jobs while B is paused, then B takes one while A is paused.
    const ids: string[] = [];
    b.signal("SIGSTOP");
    ids.push(await postVideo(a.url, KEY_A, textVideo("Lesson A1 begins.")));
    ids.push(await postVideo(a.url, KEY_A, textVideo("Lesson A2 begins.")));
    await waitFor(
      async () => Object.values(await owners()).filter((owner) => owner.includes(runnerOf(a))).length === 2,
      "A to claim its two jobs",
    );
    a.signal("SIGSTOP");
    b.signal("SIGCONT");
    ids.push(await postVideo(b.url, KEY_B, textVideo("Lesson B1 begins.")));
    await waitFor(
      async () => (await owners())[ids[2] as string]?.includes(runnerOf(b)) ?? false,
      "B to claim its job",
    );
    const owner = await owners();
    expect([owner[ids[0] as string], owner[ids[1] as string]].every((o) => o?.includes(runnerOf(a)))).toBe(
      true,
    );
    a.signal("SIGCONT");
    // Both processes hold render slots at once, and the budget is full: 2 + 1.
    expect(fake.stats().inProgress).toBe(3);
    fake.setBehavior({ renderMs: 500 });

    // Samples both processes' slot counts while the jobs run: their sum never exceeds the limit.
    let sampling = true;
    let maxHeldTogether = 0;
    const backends = new Set<string>();
    const sampler = (async () => {
      while (sampling) {
        const [ra, rb] = await Promise.all([renders(a), renders(b)]);
        for (const r of [ra, rb]) if (r.active > 0) backends.add(r.backend);
        maxHeldTogether = Math.max(maxHeldTogether, ra.active + rb.active);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    try {
      ids.push(
        ...(await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            postVideo(
              i % 2 === 0 ? a.url : b.url,
              i % 2 === 0 ? KEY_A : KEY_B,
              textVideo(`Lesson ${i} begins.`),
            ),
          ),
        )),
      );
      await waitFor(
        async () => {
          const rows = await jobRows(pool as Pool);
          return rows.length === 15 && rows.every((row) => row.status === "done");
        },
        "all 15 jobs to be done",
        30_000,
      );
    } finally {
      sampling = false;
      await sampler;
    }

    const stats = fake.stats();
    expect(stats.maxInProgress).toBeLessThanOrEqual(3);
    // The limit was reached, so it is what held the processes back.
    expect(stats.maxInProgress).toBe(3);
    expect(maxHeldTogether).toBeLessThanOrEqual(3);
    for (const id of ids) expect(stats.talksByUserData[id], `talks for ${id}`).toBe(1);
    expect(stats.talksCreated).toBe(15);
    expect(stats.creditsCharged).toBe(15);
    // Every slot was counted in Redis, shared by both processes; never in one process's memory alone.
    expect([...backends]).toEqual(["redis"]);

    // Each job was finished by exactly one of the two processes, and both finished some.
    const byA = a.logs("video job finished").map((line) => line.jobId as string);
    const byB = b.logs("video job finished").map((line) => line.jobId as string);
    expect([...byA, ...byB].sort()).toEqual([...ids].sort());
    expect(byA).toEqual(expect.arrayContaining([ids[0], ids[1]]));
    expect(byB).toContain(ids[2]);
  });
});

describe("priority under contention", () => {
  it("submits high before normal before low, first come first served within each, when the slot frees", async () => {
    const h = await createVideoHarness({ env: { D_ID_MAX_CONCURRENCY: "1" } });
    let held: Slot | undefined;
    try {
      // The only render slot, held here: every job created now has to wait for it.
      held = await h.services.videos.renders?.slot({ priority: "high" });
      expect(held).toBeDefined();
      const order = ["low", "normal", "high", "low", "normal", "high"] as const;
      const ids: string[] = [];
      for (const [i, priority] of order.entries())
        ids.push((await h.video.create(textVideo(`Notice number ${i} for students.`, { priority }))).body.id);

      // The runner is waiting for the slot: nothing was claimed or sent.
      const [rows] = (await h.pool.query("SELECT status FROM video_jobs")) as unknown as [
        { status: string }[],
      ];
      expect(rows.map((row) => row.status)).toEqual(Array(6).fill("queued"));
      await waitFor(() => {
        const queued = h.services.videos.renders?.stats().queued;
        return !!queued && queued.high + queued.normal + queued.low === 1;
      }, "the runner to wait for the slot");
      expect(h.video.fake.stats().talksCreated).toBe(0);

      held?.release();
      held = undefined;
      for (const id of ids) await h.video.until(id, ["done"]);
      const pick = (...indexes: number[]) => indexes.map((i) => ids[i]);
      expect(h.video.fake.stats().createOrder).toEqual(pick(2, 5, 1, 4, 0, 3));
      expect(h.video.fake.stats().maxInProgress).toBe(1);
    } finally {
      held?.release();
      await h.close();
    }
  });
});
