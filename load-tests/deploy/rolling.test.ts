// Replicas behind the repo's nginx going away under load: a rolling restart loses nothing; a SIGKILLed
// replica loses only the non-idempotent requests it was running, and nginx retries the rest elsewhere.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Load, longestGap, mixedRequests, type Outcome, startLoad, succeeded } from "./load.js";
import { type NginxProcess, startNginx } from "./nginx-process.js";
import { type Cluster, type Replica, startCluster, startIntoRotation } from "./replicas.js";
import { waitUntil } from "./wait.js";

let cluster: Cluster;
let nginx: NginxProcess;
let term = "";

beforeAll(async () => {
  cluster = await startCluster("test_rolling", 2);
  nginx = await startNginx({ upstreams: cluster.replicas.map((replica) => replica.address) });
  const terms = (await (await fetch(`${nginx.url}/v1/terms`)).json()) as { terms: { code: string }[] };
  term = terms.terms[0]?.code ?? "";
});

afterAll(async () => {
  await nginx?.stop();
  await cluster?.close();
});

const failures = (outcomes: Outcome[]) => outcomes.filter((outcome) => !succeeded(outcome));
const describeFailures = (outcomes: Outcome[]) =>
  failures(outcomes)
    .slice(0, 10)
    .map((o) => `${o.method} ${o.path} ${o.requestId}: ${o.status || o.error}`)
    .join("\n");

async function moreSuccesses(load: Load, count: number, what: string) {
  const target = load.successes() + count;
  await waitUntil(() => load.successes() >= target, what, 30_000);
}

describe("nginx in front of two replicas", () => {
  it("a rolling restart under load (SIGTERM A, start it, wait for /ready, then B) fails no request", async () => {
    const load = startLoad({
      url: nginx.url,
      clients: 8,
      ratePerClient: 25,
      next: mixedRequests(term),
      maxRequests: 20_000,
    });
    try {
      await moreSuccesses(load, 200, "load to warm up");
      for (const replica of cluster.replicas) {
        expect(await replica.stop("SIGTERM")).toBe(0);
        await moreSuccesses(load, 100, `the other replica to serve while ${replica.name} is down`);
        // Traffic really returns to the restarted replica before the next one goes.
        await startIntoRotation(replica, nginx);
        await moreSuccesses(load, 100, `both replicas to serve after ${replica.name} restarted`);
      }
    } finally {
      await load.stop();
    }
    const outcomes = load.outcomes;
    console.log(
      `rolling restart: ${outcomes.length} requests, ${failures(outcomes).length} failed, ` +
        `longest gap between successes ${longestGap(outcomes).toFixed(0)} ms`,
    );
    expect(failures(outcomes), `${describeFailures(outcomes)}\n${nginx.errorLog()}`).toHaveLength(0);
  }, 180_000);

  it("a replica SIGKILLed with requests in progress loses only its POSTs; nginx retries its GETs on the other", async () => {
    const [a, b] = cluster.replicas as [Replica, Replica];
    if (!a.running()) await a.start();
    if (!b.running()) await b.start();
    // Half the clients only read (GET), half only search (POST, which nginx never re-sends).
    const clients = 12;
    const load = startLoad({
      url: nginx.url,
      clients,
      ratePerClient: 20,
      maxRequests: 20_000,
      firstHost: 100,
      tag: "kill",
      next: (client, n) =>
        client % 2 === 0 ? { method: "GET", path: "/v1/terms" } : mixedRequests(term)(client, 1 + (n % 2)),
    });
    let running: Outcome[] = [];
    try {
      await moreSuccesses(load, 100, "load to warm up");
      // Frozen, A still accepts what nginx sends it and answers nothing: soon every client waits on A,
      // so what A "was running" when killed is known exactly.
      a.signal("SIGSTOP");
      await waitUntil(
        () =>
          load.pending().filter((outcome) => performance.now() - outcome.startedAt > 500).length === clients,
        "every client to wait on the frozen replica",
        30_000,
      );
      running = load.pending();
      await a.stop("SIGKILL");
      await moreSuccesses(load, 200, "the other replica to take the load");
    } finally {
      await load.stop();
    }
    const outcomes = load.outcomes;
    const lost = failures(outcomes);
    const byId = new Map(nginx.accessLog().map((line) => [line.request_id, line]));
    const retried = outcomes.filter(
      (o) => succeeded(o) && byId.get(o.requestId)?.upstream_addr.includes(", "),
    );
    const runningGets = running.filter((o) => o.method === "GET").map((o) => o.requestId);
    const runningPosts = running.filter((o) => o.method === "POST").map((o) => o.requestId);
    console.log(
      `SIGKILL: ${outcomes.length} requests; A was running ${runningGets.length} GETs and ${runningPosts.length} POSTs; ` +
        `lost ${lost.length}, retried on B ${retried.length}`,
    );
    // Lost: exactly the POSTs A was running, as nginx's 502 problem.
    expect(lost.map((o) => o.requestId).sort()).toEqual(runningPosts.sort());
    for (const outcome of lost) expect(byId.get(outcome.requestId)?.upstream_addr).toBe(a.address);
    expect(lost.every((o) => o.status === 502)).toBe(true);
    // Retried: every GET A was running was answered by B after A failed.
    for (const id of runningGets) expect(byId.get(id)?.upstream_addr).toBe(`${a.address}, ${b.address}`);
    expect(retried.length).toBeGreaterThanOrEqual(runningGets.length);
  });
});
