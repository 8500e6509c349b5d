// A bounded, paced load through nginx for the deploy tests and bench:deploy. Each client is its own
// loopback source address (127.0.0.x) with one keep-alive connection, so it is one "user" to nginx's
// per-address rate limit, and it records every request's outcome (ours, not autocannon's, because the
// tests need each request: its method, id, status, and whether it was in progress at some moment).
import { Agent, request } from "node:http";

export interface LoadRequest {
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  body?: string;
}

export interface Outcome {
  client: number;
  method: string;
  path: string;
  requestId: string;
  /** 0 when the request failed without an HTTP answer. */
  status: number;
  error?: string;
  startedAt: number;
  endedAt: number;
}

export interface LoadOptions {
  url: string;
  clients: number;
  /** Requests per second per client (nginx allows 50 per address). */
  ratePerClient: number;
  /** The next request of a client; `n` counts that client's requests. */
  next: (client: number, n: number) => LoadRequest;
  /** Hard cap on all requests, so no run can be unbounded. */
  maxRequests: number;
  /** First source address is 127.0.0.<firstHost>; each client takes the next one. */
  firstHost?: number;
  timeoutMs?: number;
  /** Request ids are `<tag>-<client>-<n>` (default `load`): unique within nginx's log across loads. */
  tag?: string;
}

export interface Load {
  readonly outcomes: Outcome[];
  /** Requests sent and not answered yet. */
  pending(): Outcome[];
  successes(): number;
  /** Stops sending, waits for the requests in progress, returns every outcome. */
  stop(): Promise<Outcome[]>;
}

const ok = (outcome: Outcome) => outcome.status >= 200 && outcome.status < 400;

export function startLoad(options: LoadOptions): Load {
  const outcomes: Outcome[] = [];
  const inProgress = new Set<Outcome>();
  const interval = 1000 / options.ratePerClient;
  let stopped = false;
  let sent = 0;
  const agents: Agent[] = [];

  const send = (agent: Agent, client: number, n: number) => {
    const spec = options.next(client, n);
    const outcome: Outcome = {
      client,
      method: spec.method,
      path: spec.path,
      requestId: `${options.tag ?? "load"}-${client}-${n}`,
      status: 0,
      startedAt: performance.now(),
      endedAt: 0,
    };
    inProgress.add(outcome);
    return new Promise<void>((resolve) => {
      const finish = (status: number, error?: string) => {
        if (outcome.endedAt) return;
        outcome.status = status;
        if (error) outcome.error = error;
        outcome.endedAt = performance.now();
        inProgress.delete(outcome);
        outcomes.push(outcome);
        resolve();
      };
      const req = request(
        `${options.url}${spec.path}`,
        {
          method: spec.method,
          agent,
          timeout: options.timeoutMs ?? 30_000,
          headers: {
            "x-request-id": outcome.requestId,
            ...(spec.body === undefined ? {} : { "content-type": "application/json" }),
          },
        },
        (res) => {
          res.resume();
          res.on("end", () => finish(res.statusCode ?? 0));
          res.on("error", (error) => finish(0, error.message));
        },
      );
      req.on("timeout", () => req.destroy(new Error("client timeout")));
      req.on("error", (error) => finish(0, error.message));
      req.end(spec.body);
    });
  };

  const runClient = async (client: number) => {
    const agent = new Agent({
      keepAlive: true,
      maxSockets: 1,
      localAddress: `127.0.0.${(options.firstHost ?? 10) + client}`,
    });
    agents.push(agent);
    for (let n = 0; !stopped && sent < options.maxRequests; n++) {
      const started = performance.now();
      sent++;
      await send(agent, client, n);
      // Pacing is the load's shape, not a wait for a condition.
      const rest = interval - (performance.now() - started);
      if (rest > 0 && !stopped) await new Promise((resolve) => setTimeout(resolve, rest));
    }
  };
  // Clients start spread over one interval so their requests interleave.
  const done = Promise.all(
    Array.from({ length: options.clients }, async (_, client) => {
      await new Promise((resolve) => setTimeout(resolve, (interval * client) / options.clients));
      await runClient(client);
    }),
  );

  return {
    outcomes,
    pending: () => [...inProgress],
    successes: () => outcomes.filter(ok).length,
    async stop() {
      stopped = true;
      await done;
      for (const agent of agents) agent.destroy();
      return outcomes;
    },
  };
}

export const succeeded = ok;

/** The longest time between two consecutive successful answers (ms), over the whole run. */
export function longestGap(outcomes: Outcome[]): number {
  const ends = outcomes
    .filter(ok)
    .map((outcome) => outcome.endedAt)
    .sort((a, b) => a - b);
  let gap = 0;
  for (let i = 1; i < ends.length; i++) gap = Math.max(gap, (ends[i] ?? 0) - (ends[i - 1] ?? 0));
  return gap;
}

/** A deploy's everyday traffic: reads, searches (POST, cached after the first few) and calendar creations (a write). */
export function mixedRequests(term: string) {
  return (client: number, n: number): LoadRequest => {
    switch (n % 4) {
      case 0:
        return { method: "GET", path: "/v1/terms" };
      case 3:
        return {
          method: "POST",
          path: "/v1/calendars",
          body: JSON.stringify({ term, name: `c${client}-${n}` }),
        };
      default:
        return {
          method: "POST",
          path: "/v1/courses/search",
          body: JSON.stringify({ term, limit: 5 + ((client + n) % 5) }),
        };
    }
  };
}

/** Latency percentile (ms) of the answered requests. */
export function percentile(outcomes: Outcome[], p: number): number {
  const times = outcomes.map((o) => o.endedAt - o.startedAt).sort((a, b) => a - b);
  return times.length ? (times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))] ?? 0) : 0;
}
