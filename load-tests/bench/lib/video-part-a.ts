// Part A of bench:video: status reads and 1 MiB uploads, 1 and 10 callers, naive client then Kogi's, one fake.
import type { UpstreamStats } from "@kogi/shared/outbound/upstream";
import { logger } from "./cleanup.js";
import type { Fixture } from "./fixture.js";
import {
  type CallRun,
  type DIdCalls,
  kogiDIdClient,
  NaiveDIdClient,
  paddedPng,
  runCallers,
} from "./video-clients.js";
import { leastDisturbed, pidOf } from "./video-cpu.js";
import { startFakeDIdChild } from "./video-fake.js";

export interface PartASettings {
  /** The fake's delay before every answer. */
  latencyMs: number;
  /** Measured window of each row (a row also stops at its call cap). */
  seconds: number;
  uploadBytes: number;
  /** D_ID_RPM for Kogi's client: high enough never to bind here. */
  rpm: number;
  callers: number[];
}

export interface PartARow {
  operation: string;
  callers: number;
  client: "naive" | "kogi";
  run: CallRun;
  /** Calls/s if every call took exactly the fake's latency: callers / latency. */
  floorPerSecond: number;
  /** Cores by process over the measured run (see leastDisturbed), and the tries it took. */
  cores: Record<string, number>;
  tries: number;
}

export interface PartAResult {
  rows: PartARow[];
  kogi: { connections: number; rpm: number; upstream: UpstreamStats };
}

const log = logger("bench:video");
const WARMUP = { maxCalls: 30, maxMs: 1_000 };
/**
 * A row is measured again (up to this many times in all) while other work on the machine disturbs it, as
 * long as part A has run for less than RETRY_BUDGET_MS (it should stay near a minute).
 */
const ROW_TRIES = 3;
const RETRY_BUDGET_MS = 40_000;

interface Operation {
  name: string;
  call: (client: DIdCalls) => () => Promise<unknown>;
  maxCalls: number;
  /** Uploads stay in the fake's memory: forget them after each row. */
  resetAfter: boolean;
}

async function createTalk(fake: { url: string; apiKey: string }): Promise<string> {
  const response = await fetch(`${fake.url}/talks`, {
    method: "POST",
    headers: { authorization: `Basic ${fake.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({
      source_url: "https://example.edu/p.jpg",
      script: { type: "text", input: "A status read benchmark." },
    }),
  });
  const body = (await response.json()) as { id?: string };
  if (response.status !== 201 || !body.id) throw new Error(`fake D-ID POST /talks gave ${response.status}`);
  return body.id;
}

export async function runPartA(
  root: string,
  fixture: Fixture,
  settings: PartASettings,
): Promise<PartAResult> {
  const fake = await startFakeDIdChild(root, { latencyMs: settings.latencyMs });
  const kogi = await kogiDIdClient(fixture, fake, settings.rpm);
  const clients: [PartARow["client"], DIdCalls][] = [
    ["naive", new NaiveDIdClient(fake.url, fake.apiKey)],
    ["kogi", kogi.client],
  ];
  const talkId = await createTalk(fake);
  const pids = {
    "bench (clients)": process.pid,
    "fake D-ID": fake.pid,
    redis: pidOf("redis-server"),
  };
  const image = paddedPng(settings.uploadBytes);
  const operations: Operation[] = [
    {
      name: "GET /talks/{id} (status read)",
      call: (client) => () => client.getTalk(talkId),
      maxCalls: 50_000,
      resetAfter: false,
    },
    {
      name: `POST /images (${settings.uploadBytes / 2 ** 20} MiB PNG)`,
      call: (client) => () => client.uploadImage(image),
      // At most 800 MiB the fake keeps until the reset after the row.
      maxCalls: 800,
      resetAfter: true,
    },
  ];
  const rows: PartARow[] = [];
  const started = performance.now();
  for (const operation of operations)
    for (const callers of settings.callers)
      for (const [name, client] of clients) {
        const call = operation.call(client);
        // Connections, JIT and the budget's Redis scripts warm up here, out of the numbers.
        await runCallers(callers, WARMUP, call);
        if (operation.resetAfter) await fake.reset();
        const {
          result: run,
          cores,
          tries,
        } = await leastDisturbed(
          pids,
          performance.now() - started < RETRY_BUDGET_MS ? ROW_TRIES : 1,
          async () => {
            const limits = { maxCalls: operation.maxCalls, maxMs: settings.seconds * 1000 };
            const result = await runCallers(callers, limits, call);
            if (operation.resetAfter) await fake.reset();
            return result;
          },
        );
        rows.push({
          operation: operation.name,
          callers,
          client: name,
          run,
          floorPerSecond: Math.round((callers * 1000) / settings.latencyMs),
          cores,
          tries,
        });
        log(
          `A ${operation.name}, ${callers} caller(s), ${name}: ${run.callsPerSecond} calls/s (${tries} tries, others ${cores.others} cores)`,
        );
      }
  const upstream = kogi.upstreamStats();
  await kogi.close();
  await fake.stop();
  return { rows, kogi: { ...kogi.settings, upstream } };
}
