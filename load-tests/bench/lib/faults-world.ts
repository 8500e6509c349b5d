import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureDatabase, migrate } from "@kogi/api/adapters/mysql/migrate";
import { createPool } from "@kogi/api/adapters/mysql/pool";
import { generateCatalog } from "@kogi/api/catalog/generator";
import { importTerms } from "@kogi/api/catalog/importer";
import { startMariaDb } from "@kogi/api/testutil/mariadb-server";
import { startRedisServer } from "@kogi/api/testutil/redis-server";
import { type SidecarProcess, sidecarProcess } from "@kogi/api/testutil/sidecar-process";
import { loadConfig } from "@kogi/shared/config";
import { type FakeOpenAI, startFakeOpenAI } from "@kogi/shared/fakes/openai-server";
import { parseLogLines } from "@kogi/shared/logger";
import { composeEnvironment } from "../../deploy/compose-file.js";
import { type NginxProcess, startNginx } from "../../deploy/nginx-process.js";
import { createReplica, type Replica } from "../../deploy/replicas.js";
import { freePort } from "../../deploy/wait.js";
import { buildVectorIndex, courseTitles } from "./answer-setup.js";
import { cleanups } from "./cleanup.js";
import { prng } from "./vector-queries.js";

const FAKE_KEY = "fake-key";
/** A realistic rewrite latency; the answer deadline below is read against it. */
const CHAT_LATENCY_MS = 300;
export const ANSWER_TIMEOUT_MS = 5_000;

export interface World {
  db: Awaited<ReturnType<typeof startMariaDb>>;
  redis: Awaited<ReturnType<typeof startRedisServer>>;
  fake: FakeOpenAI;
  sidecar: SidecarProcess;
  replicas: [Replica, Replica];
  nginx: NginxProcess;
  titles: string[];
  /** Distinct search bodies (subject, title word, limit), shuffled; each row takes its own slice. */
  searchBodies: string[];
  /** How long the first starts took here: restarts under load are budgeted from them. */
  startMs: { sidecar: number; replica: number };
  settings: Record<string, string | number>;
}

/** Error-level lines the replicas logged after `marks` (output offsets taken at a row's start). */
export function errorLogLines(replicas: Replica[], marks: number[]): Record<string, unknown>[] {
  return replicas.flatMap((replica, i) => {
    const output = replica.output();
    // A restarted replica starts a fresh output: then all of it is new.
    const since = output.length >= (marks[i] ?? 0) ? (marks[i] ?? 0) : 0;
    return parseLogLines(output.slice(since)).filter((line) => Number(line.level) >= 50);
  });
}

function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  const random = prng(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

async function searchBodies(pool: ReturnType<typeof createPool>): Promise<string[]> {
  const [rows] = (await pool.query(
    "SELECT DISTINCT subject, title FROM courses ORDER BY subject, title",
  )) as unknown as [{ subject: string; title: string }[]];
  const pairs = new Set<string>();
  for (const row of rows)
    for (const word of row.title.match(/[A-Za-z]{4,}/g) ?? [])
      pairs.add(`${row.subject}\t${word.toLowerCase()}`);
  // A synthetic catalog has few distinct words: vary limit, openOnly and sort too, so a row's searches
  // stay cache misses (about 90k bodies for 2,000 courses).
  const bodies: string[] = [];
  for (const pair of pairs) {
    const [subject, keyword] = pair.split("\t") as [string, string];
    for (let limit = 1; limit <= 100; limit++)
      for (const openOnly of [false, true])
        for (const sort of ["relevance", "subject", "credits"])
          bodies.push(JSON.stringify({ subjects: [subject], keyword, limit, openOnly, sort }));
  }
  return shuffled(bodies, 7);
}

async function warmAnswer(url: string): Promise<void> {
  const response = await fetch(`${url}/v1/answer`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ question: "an introduction to the subject" }),
  });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`warm-up answer from ${url}: ${response.status}`);
}

export async function createWorld(log: (message: string) => void): Promise<World> {
  const tmp = await mkdtemp(join(tmpdir(), "kogi-bench-faults-"));
  cleanups.push(() => rm(tmp, { recursive: true, force: true }));
  const [db, redis] = await Promise.all([startMariaDb(), startRedisServer()]);
  cleanups.push(db.close, redis.stop);
  const databaseUrl = db.url("kogi_faults");
  log(`private MariaDB on ${db.port}, Redis on ${redis.port}`);

  await ensureDatabase(databaseUrl);
  const pool = createPool({ databaseUrl, size: 2, queueLimit: 0 });
  let titles: string[];
  let bodies: string[];
  try {
    await migrate(pool);
    await importTerms(pool, generateCatalog({ courses: 2000, seed: 7 }).terms);
    titles = await courseTitles(pool);
    bodies = await searchBodies(pool);
  } finally {
    await pool.end();
  }

  const fake = await startFakeOpenAI({
    apiKey: FAKE_KEY,
    chat: { latencyMs: CHAT_LATENCY_MS },
    embeddings: { latencyMs: 50 },
    recordLimit: 100,
  });
  cleanups.push(() => fake.close());
  const index = await buildVectorIndex(databaseUrl, join(tmp, "index"), "local", {
    apiKey: FAKE_KEY,
    baseUrl: fake.url,
  });
  log(`catalog of ${index.manifest.count} courses indexed in ${index.ms} ms`);
  const sidecar = sidecarProcess({
    indexDir: index.dir,
    port: await freePort(),
    databaseUrl,
    // Through serve-vector.ts (it stops with the bench); its JSON log to our stderr, stdout stays the report.
    script: "load-tests/bench/serve-vector.ts",
    stdio: ["ignore", 2, "inherit", "ipc"],
  });
  cleanups.push(sidecar.stop);
  let started = performance.now();
  await sidecar.start();
  const sidecarStartMs = performance.now() - started;

  const compose = composeEnvironment("api");
  const fromCompose = ["KEEP_ALIVE_TIMEOUT_MS", "BODY_LIMIT_BYTES", "SHUTDOWN_GRACE_MS", "SHUTDOWN_DELAY_MS"];
  const env: Record<string, string> = {
    ...Object.fromEntries(fromCompose.flatMap((key) => (compose[key] ? [[key, compose[key]]] : []))),
    DATABASE_URL: databaseUrl,
    REDIS_URL: redis.url,
    REDIS_PREFIX: "kogi-faults:",
    API_WORKERS: "1",
    LOG_LEVEL: "warn",
    DEMO_COURSES: "0",
    VECTOR_URL: sidecar.url,
    OPENAI_API_KEY: FAKE_KEY,
    OPENAI_BASE_URL: fake.url,
    // Only the rewrite goes to the fake; the sidecar embeds the question with the index's own embedder.
    EMBEDDINGS_PROVIDER: "local",
    ANSWER_TIMEOUT_MS: String(ANSWER_TIMEOUT_MS),
    // The upstream's own budget is not what this bench measures: set it out of the way.
    OPENAI_RPM: "100000",
    OPENAI_TPM: "100000000",
  };
  const replicas: [Replica, Replica] = [
    createReplica("a", await freePort(), env),
    createReplica("b", await freePort(), env),
  ];
  cleanups.push(async () => {
    await Promise.all(replicas.map((replica) => replica.stop("SIGKILL")));
  });
  started = performance.now();
  await Promise.all(replicas.map((replica) => replica.start()));
  const replicaStartMs = performance.now() - started;
  // A replica builds its lexical ranking on its first answer (seconds of CPU here): done now, so the
  // first row measures its fault, not a cold replica. The rolling restart row keeps the cold start.
  for (const replica of replicas) await warmAnswer(replica.url);
  const nginx = await startNginx({
    upstreams: replicas.map((replica) => replica.address),
    // One load generator is one address: lift nginx's per-address rate (limit_req still runs).
    substitutions: [["rate=50r/s", "rate=1000000r/s"]],
  });
  cleanups.push(nginx.stop);
  log(
    `replicas ${replicas.map((r) => r.address).join(", ")} behind nginx ${nginx.url}; ` +
      `starts took ${Math.round(sidecarStartMs)} ms (sidecar) and ${Math.round(replicaStartMs)} ms (replicas)`,
  );
  return {
    db,
    redis,
    fake,
    sidecar,
    replicas,
    nginx,
    titles,
    searchBodies: bodies,
    startMs: { sidecar: sidecarStartMs, replica: replicaStartMs },
    settings: {
      courses: index.manifest.count,
      chatLatencyMs: CHAT_LATENCY_MS,
      // The rest as the replicas run them (compose's values, else the defaults).
      ...Object.fromEntries(
        Object.entries(loadConfig(env)).filter(([key]) =>
          /^(ANSWER_|DB_|READY_|VECTOR_TIMEOUT|OPENAI_(MAX|ATTEMPT|BREAKER)|SHUTDOWN_)/.test(key),
        ),
      ),
    },
  };
}
