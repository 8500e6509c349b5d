// Search caching: canonical keys, invalidation by import, single flight, and Redis going away and back.
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { generateCatalog } from "../catalog/generator.js";
import { createHarness, type Harness } from "../testutil/harness.js";
import { startRedisServer, waitFor } from "../testutil/redis-server.js";

const catalog = generateCatalog({ courses: 400, seed: 7 });
const term = catalog.terms[0]?.code as string;

describe("search cache", () => {
  let redisServer: Awaited<ReturnType<typeof startRedisServer>>;
  let harness: Harness;
  let probe: Redis;
  const redisKeys = async () => probe.keys(`${harness.config.REDIS_PREFIX}*`);

  beforeAll(async () => {
    redisServer = await startRedisServer();
    harness = await createHarness({ redisUrl: redisServer.url });
    await harness.importTerms(catalog.terms);
    probe = new Redis(redisServer.url, { maxRetriesPerRequest: 0, retryStrategy: () => 100 });
    probe.on("error", () => {});
  });
  afterAll(async () => {
    probe?.disconnect();
    await harness?.close();
    await redisServer?.stop();
  });

  it("serves the same request in another key order, list order or case from the cache", async () => {
    const first = await harness.search({ term, subjects: ["CS", "MATH"], days: ["M", "W"], limit: 5 });
    expect(first.response.headers.get("x-cache")).toBe("MISS");
    const second = await harness.search({ limit: 5, days: ["W", "M", "W"], subjects: ["math", "CS"], term });
    expect(second.response.headers.get("x-cache")).toBe("HIT; tier=memory");
    expect(second.body).toEqual(first.body);
    expect(
      await (await harness.search({ term, subjects: ["CS"], limit: 5 })).response.headers.get("x-cache"),
    ).toBe("MISS");
  });

  it("shares entries with other replicas through Redis", async () => {
    const body = { term, keyword: "introduction", limit: 3 };
    await harness.search(body);
    await waitFor(
      async () => (await redisKeys()).some((k) => k.includes("introduction")),
      "the entry to reach Redis",
    );
    const replica = await createHarness({
      redisUrl: redisServer.url,
      env: { REDIS_PREFIX: harness.config.REDIS_PREFIX },
    });
    try {
      // Same database content is not needed for a hit: the replica must not even ask MySQL.
      await replica.services.catalogVersion.refresh();
      replica.services.catalogVersion.observe(harness.services.catalogVersion.current);
      const spy = vi.spyOn(replica.services.catalog, "findCoursePage");
      const { response, body: result } = await replica.search(body);
      expect(response.headers.get("x-cache")).toBe("HIT; tier=redis");
      expect(result.results.length).toBe(3);
      expect(spy).not.toHaveBeenCalled();
    } finally {
      await replica.close();
    }
  });

  it("runs the SQL once for 50 concurrent identical misses", async () => {
    const spy = vi.spyOn(harness.services.catalog, "findCoursePage");
    const body = { term, levels: [300, 400], openOnly: true, limit: 10 };
    const responses = await Promise.all(Array.from({ length: 50 }, () => harness.search(body)));
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
    const bodies = new Set(responses.map((r) => JSON.stringify(r.body)));
    expect(bodies.size).toBe(1);
    expect(responses.every((r) => r.response.status === 200)).toBe(true);
  });

  it("never serves a result from before an import", async () => {
    const body = { term, keyword: "topology", limit: 50 };
    const before = await harness.search(body);
    expect((await harness.search(body)).response.headers.get("x-cache")).toMatch(/HIT/);
    const renamed = {
      ...catalog.terms[0],
      courses: catalog.terms[0]?.courses.map((c) =>
        c.title.includes("Topology") ? { ...c, title: `${c.title} Renamed` } : c,
      ),
    } as (typeof catalog.terms)[number];
    await harness.importTerms([renamed]);
    const after = await harness.search(body);
    expect(after.response.headers.get("x-cache")).toBe("MISS");
    expect(after.body.results.length).toBe(before.body.results.length);
    expect(
      after.body.results.every((c) => !c.title.includes("Topology") || c.title.endsWith("Renamed")),
    ).toBe(true);
  });

  it("keeps answering correctly while Redis is down, reports it, and uses Redis again when it returns", async () => {
    const expected = await harness.search({ term, subjects: ["PHYS"], limit: 20 });
    await redisServer.stop();
    await waitFor(() => harness.redis.status !== "ready", "the client to notice");

    const whileDown = await harness.search({ term, subjects: ["PHYS"], openOnly: false, limit: 20 });
    expect(whileDown.response.status).toBe(200);
    expect(whileDown.body).toEqual(expected.body);
    const fresh = await harness.search({ term, subjects: ["CHEM", "PHYS"], limit: 20 });
    expect(fresh.response.status).toBe(200);
    expect(fresh.response.headers.get("x-cache")).toBe("MISS");
    expect(
      (await harness.search({ term, subjects: ["PHYS", "CHEM"], limit: 20 })).response.headers.get("x-cache"),
    ).toBe("HIT; tier=memory");

    const ready = await harness.request("/ready");
    expect(ready.status).toBe(200);
    const readiness = (await ready.json()) as { status: string; checks: { redis: { ok: boolean } } };
    expect(readiness.status).toBe("degraded");
    expect(readiness.checks.redis.ok).toBe(false);
    expect(await (await harness.request("/metrics")).text()).toMatch(/^kogi_redis_up 0$/m);

    await redisServer.start();
    await waitFor(() => harness.redis.status === "ready", "the client to reconnect");
    await harness.search({ term, subjects: ["ECON"], limit: 4 });
    await waitFor(
      async () => (await redisKeys()).some((k) => k.includes("ECON")),
      "the entry to reach Redis",
    );
    const back = (await (await harness.request("/ready")).json()) as { checks: { redis: { ok: boolean } } };
    expect(back.checks.redis.ok).toBe(true);
    expect(await (await harness.request("/metrics")).text()).toMatch(/^kogi_redis_up 1$/m);
  });
});
