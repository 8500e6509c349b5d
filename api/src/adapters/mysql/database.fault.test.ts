// A private MariaDB frozen (SIGSTOP) and killed under load: requests fail fast with 503
// database_unavailable + Retry-After (never a 500, never another dependency's code), /ready answers
// 503 within a second, and the service recovers by itself.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateCatalog } from "../../catalog/generator.js";
import { createHarness, type Harness } from "../../testutil/harness.js";
import { startMariaDb } from "../../testutil/mariadb-server.js";
import { waitFor } from "../../testutil/redis-server.js";
import { listen } from "../../testutil/video-harness.js";

let db: Awaited<ReturnType<typeof startMariaDb>>;
let h: Harness;
let server: Awaited<ReturnType<typeof listen>>;
let word = 0;

beforeAll(async () => {
  db = await startMariaDb();
  h = await createHarness({
    env: {
      DATABASE_URL: db.url("kogi_fault"),
      DB_STATEMENT_TIMEOUT_MS: "1000",
      DB_ACQUIRE_TIMEOUT_MS: "300",
      READY_PROBE_TIMEOUT_MS: "400",
      DB_POOL_SIZE: "4",
    },
  });
  await h.importTerms(generateCatalog({ courses: 60, seed: 7 }).terms);
  server = await listen(h.app);
}, 120_000);

afterAll(async () => {
  db?.thaw();
  await server?.close();
  await h?.close().catch(() => undefined);
  await db?.close();
});

/**
 * A search no cache has seen, so it must reach the database; `shape` adds filters, so that its SQL is
 * one the connections have not prepared yet (a PREPARE on a frozen server must be bounded too).
 */
const uncachedSearch = (shape: Record<string, unknown> = {}) =>
  fetch(`${server.url}/v1/courses/search`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ keyword: `w${word++}`, ...shape }),
  });

async function outcomes(count: number, shape: Record<string, unknown> = {}) {
  const answers = await Promise.all(
    Array.from({ length: count }, async () => {
      const response = await uncachedSearch(shape);
      const body = (await response.json()) as { code?: string };
      return { status: response.status, code: body.code, retryAfter: response.headers.get("retry-after") };
    }),
  );
  return answers;
}

describe("a frozen database", () => {
  it("gets fast 503s with Retry-After, a /ready of 503 within a second, and recovers after SIGCONT", async () => {
    expect((await uncachedSearch()).status).toBe(200);
    db.freeze();
    try {
      // Waves: a new SQL shape on the live connections (its PREPARE meets the frozen server), the
      // statement they have prepared, then another new shape, on whatever the earlier waves left.
      for (const shape of [{ subjects: ["CS"], levels: [100, 200] }, {}, { openOnly: true }]) {
        const started = Date.now();
        const frozen = await outcomes(8, shape);
        // Every request ends within the statement deadline plus the wait for a connection.
        expect(Date.now() - started).toBeLessThan(5_000);
        for (const answer of frozen)
          expect(answer).toEqual({ status: 503, code: "database_unavailable", retryAfter: "2" });
      }
      const readyStarted = Date.now();
      const ready = await fetch(`${server.url}/ready`);
      expect(Date.now() - readyStarted).toBeLessThan(1_000);
      expect(ready.status).toBe(503);
    } finally {
      db.thaw();
    }
    await waitFor(async () => (await uncachedSearch()).status === 200, "searches to succeed again", 10_000);
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
  });
});

describe("a killed database", () => {
  it("answers 503 database_unavailable under load while it is down, and recovers when it returns", async () => {
    const seen: { status: number; code?: string; retryAfter: string | null }[] = [];
    let stop = false;
    const load = (async () => {
      while (!stop) seen.push(...(await outcomes(4)));
    })();
    await waitFor(() => seen.length >= 8, "some load before the kill");
    await db.kill();
    await waitFor(() => seen.filter((s) => s.status !== 200).length >= 8, "failures while down", 15_000);
    await db.start();
    await waitFor(() => seen.slice(-4).every((s) => s.status === 200), "recovery after restart", 20_000);
    stop = true;
    await load;
    const failures = seen.filter((s) => s.status !== 200);
    for (const failure of failures)
      expect(failure).toEqual({ status: 503, code: "database_unavailable", retryAfter: "2" });
  });
});
