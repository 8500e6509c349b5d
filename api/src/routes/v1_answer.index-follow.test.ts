// The vector index follows the catalog and the embedder by itself (the sidecar's follower, real MariaDB,
// real sidecar): while the index is behind, answers still come (never a 503 loop), say
// `query.indexStale`, rank the courses the index lacks lexically, and /ready says degraded and why; once
// the rebuild lands it is swapped in. The test holds the build lock itself, so "behind" lasts exactly
// until it lets go, whatever the machine's speed.

import { acquireBuildLock, type BuildLock, lockName } from "@kogi/vector-worker/build-lock";
import { buildIfStale } from "@kogi/vector-worker/index-freshness";
import mysql from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateCatalog } from "../catalog/generator.js";
import { type AnswerHarness, createAnswerHarness } from "../testutil/answer-harness.js";
import { writtenCourse } from "../testutil/fixtures.js";
import { waitFor } from "../testutil/redis-server.js";

const NEW_TERM = {
  code: "2031-sp",
  year: 2031,
  season: "Spring",
  courses: [writtenCourse("HORT 501", "Quantum Gardening", "Soil, plants and quantum effects in gardens.")],
};

async function ready(harness: AnswerHarness) {
  const response = await harness.request("/ready");
  return {
    status: response.status,
    body: (await response.json()) as {
      status: string;
      checks: Record<string, { ok: boolean; detail?: string }>;
    },
  };
}

async function sidecarFollow(harness: AnswerHarness) {
  const body = (await (await fetch(`${harness.sidecarUrl}/ready`)).json()) as {
    catalogVersion: number;
    follow: { state: string; reason?: string };
  };
  return body;
}

describe("after a catalog import", () => {
  let harness: AnswerHarness;
  let lock: BuildLock | undefined;
  beforeAll(async () => {
    harness = await createAnswerHarness({
      followMs: 100,
      load: (h) => h.importTerms(generateCatalog({ courses: 80, seed: 3 }).terms),
    });
  }, 120_000);
  afterAll(async () => {
    await lock?.release();
    await harness?.close();
  });

  it("answers from the index it has, says so, and swaps in the rebuilt index by itself", async () => {
    lock = await acquireBuildLock(harness.config.DATABASE_URL);
    expect(lock).toBeDefined();
    await harness.importTerms([NEW_TERM]);
    await waitFor(
      async () => (await sidecarFollow(harness)).follow.state === "stale",
      "the follower to notice",
    );
    expect((await sidecarFollow(harness)).follow.reason).toMatch(
      /index is for catalog v\d+, the catalog is v\d+/,
    );

    const stale = await harness.answer({ question: "quantum gardening", k: 3 });
    expect(stale.response.status).toBe(200);
    expect(stale.body.query.indexStale).toBe(true);
    expect(stale.body.results[0]).toMatchObject({
      title: "Quantum Gardening",
      why: { lexicalRank: 1, vectorRank: null },
    });
    const behind = await ready(harness);
    expect(behind.status).toBe(200);
    expect(behind.body.status).toBe("degraded");
    expect(behind.body.checks.vector).toMatchObject({ ok: false });
    expect(behind.body.checks.vector?.detail).toMatch(/is for catalog v\d+, the catalog is v\d+/);

    await lock?.release();
    lock = undefined;
    await waitFor(async () => (await ready(harness)).body.status === "ready", "the rebuilt index", 60_000);
    const fresh = await harness.answer({ question: "quantum gardening", k: 3 });
    expect(fresh.body.query.indexStale).toBe(false);
    expect(fresh.body.results[0]).toMatchObject({ title: "Quantum Gardening", why: { lexicalRank: 1 } });
    expect(fresh.body.results[0]?.why.vectorRank).toBe(1);
    expect((await sidecarFollow(harness)).follow.state).toBe("current");
  });
});

const CATALOG = generateCatalog({ courses: 60, seed: 5 });

describe("with another embedder configured than the index was built with", () => {
  let harness: AnswerHarness;
  let lock: BuildLock | undefined;
  beforeAll(async () => {
    // The first index is built at 64 dims; the sidecar is configured for the default 1536.
    harness = await createAnswerHarness({
      followMs: 100,
      firstBuildEnv: { EMBEDDING_DIMS: "64" },
      load: async (h) => {
        await h.importTerms(CATALOG.terms);
        // Held before the sidecar starts following: no rebuild until the test lets go.
        lock = await acquireBuildLock(h.config.DATABASE_URL);
      },
    });
  }, 120_000);
  afterAll(async () => {
    await lock?.release();
    await harness?.close();
  });

  it("ranks lexically meanwhile (no 503), reports why, then rebuilds for the configured embedder", async () => {
    expect(lock).toBeDefined();
    await waitFor(
      async () => (await sidecarFollow(harness)).follow.state === "stale",
      "the follower to notice",
    );
    expect((await sidecarFollow(harness)).follow.reason).toMatch(
      /64 dims\), the configured embedder is .*1536 dims/,
    );
    const title = CATALOG.terms[0]?.courses[7]?.title as string;

    const meanwhile = await harness.answer({ question: title, k: 3 });
    expect(meanwhile.response.status).toBe(200);
    expect(meanwhile.body.query.indexStale).toBe(true);
    expect(meanwhile.body.results[0]).toMatchObject({ title, why: { vectorRank: null } });
    const notReady = await ready(harness);
    expect(notReady.body.status).toBe("degraded");
    expect(notReady.body.checks.vector?.detail).toMatch(
      /no index loaded \(the index was built with .*64 dims/,
    );

    await lock?.release();
    lock = undefined;
    await waitFor(async () => (await ready(harness)).body.status === "ready", "the rebuilt index", 60_000);
    const after = await harness.answer({ question: title, k: 3 });
    expect(after.body.query.indexStale).toBe(false);
    expect(after.body.results[0]?.why.vectorRank).not.toBeNull();
    expect(harness.store.current?.manifest.dims).toBe(1536);
  });
});

describe("the build lock", () => {
  let harness: AnswerHarness;
  beforeAll(async () => {
    harness = await createAnswerHarness({
      load: (h) => h.importTerms(generateCatalog({ courses: 40, seed: 9 }).terms),
    });
  }, 120_000);
  afterAll(async () => harness?.close());

  it("lets one builder at a time in, and frees itself when the holder's connection dies", async () => {
    const url = harness.config.DATABASE_URL;
    // A builder that crashes: its connection holds the lock, then goes away without releasing it.
    const crashed = await mysql.createConnection({ uri: url });
    const [[held]] = (await crashed.query("SELECT GET_LOCK(?, 0) AS got", [lockName(url)])) as unknown as [
      [{ got: number }],
    ];
    expect(Number(held.got)).toBe(1);
    expect(await acquireBuildLock(url)).toBeUndefined();
    const dir = harness.store.dir;
    const options = {
      databaseUrl: url,
      dir,
      expected: { provider: "local" as const, model: "kogi-local-hash-v1", dims: 1536 },
      embedder: () => {
        throw new Error("must not build while another builder holds the lock");
      },
    };
    expect(await buildIfStale({ ...options, force: true })).toEqual({ outcome: "busy" });

    crashed.destroy();
    let lock: BuildLock | undefined;
    await waitFor(async () => {
      lock = await acquireBuildLock(url);
      return lock !== undefined;
    }, "the dead holder's lock to be freed");
    await lock?.release();
  });
});
