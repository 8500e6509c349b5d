// The repo's nginx/nginx.conf under Debian's real nginx, in front of two real api replicas on loopback.
import { Agent, type IncomingHttpHeaders, request } from "node:http";
import { cpus } from "node:os";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLoad, succeeded } from "./load.js";
import { type NginxProcess, startNginx } from "./nginx-process.js";
import { type Cluster, startCluster } from "./replicas.js";
import { waitUntil } from "./wait.js";

let cluster: Cluster;
let nginx: NginxProcess;
let term = "";

beforeAll(async () => {
  // debug: the api logs every request with its id.
  cluster = await startCluster("test_nginx", 2, { env: { LOG_LEVEL: "debug" } });
  nginx = await startNginx({ upstreams: cluster.replicas.map((replica) => replica.address) });
  const terms = (await (await fetch(`${nginx.url}/v1/terms`)).json()) as { terms: { code: string }[] };
  term = terms.terms[0]?.code ?? "";
});

afterAll(async () => {
  await nginx?.stop();
  await cluster?.close();
});

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

/** One request over node:http (no automatic decompression), from a chosen loopback source address. */
function send(
  url: string,
  options: {
    method?: string;
    path: string;
    headers?: Record<string, string | number>;
    body?: string | Buffer;
    from?: string;
    agent?: Agent;
  },
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${options.path}`,
      {
        method: options.method ?? "GET",
        headers: options.headers,
        localAddress: options.from,
        agent: options.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            rawHeaders: res.rawHeaders,
            body: Buffer.concat(chunks),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/** Sends only the headers of a body of `length` bytes and returns nginx's early answer. */
function announce(url: string, path: string, length: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, {
      method: "POST",
      agent: false,
      headers: { "content-type": "multipart/form-data; boundary=x", "content-length": length },
    });
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          rawHeaders: res.rawHeaders,
          body: Buffer.concat(chunks),
        });
        req.destroy();
      });
    });
    req.on("error", reject);
    req.flushHeaders();
  });
}

const json = (reply: Reply) => JSON.parse(reply.body.toString("utf8")) as Record<string, unknown>;
/** nginx's access-log line of a request; nginx writes it just after the response, so wait for it. */
async function logLine(requestId: string) {
  const find = () => nginx.accessLog().find((line) => line.request_id === requestId);
  await waitUntil(() => find() !== undefined, `nginx to log ${requestId}`);
  return find();
}
const apiLogged = (requestId: string) =>
  cluster.replicas
    .flatMap((replica) => replica.logs("request"))
    .filter((line) => line.requestId === requestId);

describe("nginx in front of the api", () => {
  it("reuses upstream keep-alive connections: many requests reach the api over a few connections", async () => {
    const before = cluster.replicas.map((replica) => replica.connections());
    const clients = 8;
    const load = startLoad({
      url: nginx.url,
      clients,
      ratePerClient: 40,
      maxRequests: 800,
      next: (client, n) => ({
        method: "POST",
        path: "/v1/courses/search",
        body: JSON.stringify({ term, limit: 1 + ((client + n) % 10) }),
      }),
    });
    await waitUntil(() => load.outcomes.length >= 800, "800 requests through nginx", 30_000);
    const outcomes = await load.stop();
    const opened = cluster.replicas.reduce(
      (sum, replica, i) => sum + replica.connections() - (before[i] ?? 0),
      0,
    );
    console.log(
      `keep-alive: ${outcomes.length} requests from ${clients} clients over ${opened} api connections`,
    );
    expect(outcomes.filter(succeeded)).toHaveLength(800);
    // At most one upstream connection per concurrent request per nginx worker, whatever the volume.
    expect(opened).toBeGreaterThan(0);
    expect(opened).toBeLessThanOrEqual(clients * cpus().length);
    expect(opened * 10).toBeLessThan(outcomes.length);
  });

  it("past the per-address rate answers 429 problem+json with Retry-After; other addresses pass", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 20 });
    let limited: Reply | undefined;
    for (let sent = 0; !limited && sent < 2_000; sent += 20) {
      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          send(nginx.url, {
            path: "/health",
            from: "127.0.0.200",
            agent,
            headers: { "x-request-id": `rate-${sent + i}` },
          }),
        ),
      );
      limited = replies.find((reply) => reply.status === 429);
    }
    agent.destroy();
    expect(limited, "no 429 after 2000 requests from one address").toBeDefined();
    const reply = limited as Reply;
    expect(reply.headers["content-type"]).toBe("application/problem+json");
    expect(reply.headers["retry-after"]).toBe("1");
    const problem = json(reply);
    expect(problem).toMatchObject({
      status: 429,
      code: "rate_limited",
      requestId: reply.headers["x-request-id"],
    });
    // Refused by nginx itself: no replica saw it.
    expect((await logLine(String(reply.headers["x-request-id"])))?.upstream_addr).toBe("");
    expect((await send(nginx.url, { path: "/health", from: "127.0.0.201" })).status).toBe(200);
  });

  it("refuses a body over the api's limit with its own 413 problem, and forwards one at the limit", async () => {
    const over = await send(nginx.url, {
      method: "POST",
      path: "/v1/courses/search",
      headers: { "content-type": "application/json", "x-request-id": "big-body" },
      body: Buffer.alloc(64 * 1024 + 1, 0x20),
    });
    expect(over.status).toBe(413);
    expect(over.headers["content-type"]).toBe("application/problem+json");
    expect(json(over)).toMatchObject({ status: 413, code: "body_too_large", requestId: "big-body" });
    expect((await logLine("big-body"))?.upstream_addr).toBe("");

    // 64 KiB of spaces: the api's own limit lets it in, and it answers that it is not JSON.
    const at = await send(nginx.url, {
      method: "POST",
      path: "/v1/courses/search",
      headers: { "content-type": "application/json", "x-request-id": "limit-body" },
      body: Buffer.alloc(64 * 1024, 0x20),
    });
    expect(at.status).toBe(400);
    expect((await logLine("limit-body"))?.upstream_addr).not.toBe("");
  });

  it("lets uploads up to the api's file limits plus the multipart envelope through, and no more", async () => {
    const envelope = 64 * 1024;
    const limits = {
      "/v1/videos/uploads/images": 10 * 2 ** 20 + envelope,
      "/api/d_id_optimized/upload-source-image": 10 * 2 ** 20 + envelope,
      "/v1/videos/uploads/audios": 6 * 2 ** 20 + envelope,
      "/api/d_id_optimized/upload-audio": 6 * 2 ** 20 + envelope,
    };
    for (const [path, limit] of Object.entries(limits)) {
      const over = await announce(nginx.url, path, limit + 1);
      expect(over.status, path).toBe(413);
      expect(json(over).code, path).toBe("body_too_large");
    }
    for (const path of ["/v1/videos/uploads/images", "/v1/videos/uploads/audios"]) {
      const requestId = `upload-at-limit-${path.length}`;
      const reply = await send(nginx.url, {
        method: "POST",
        path,
        headers: { "content-type": "multipart/form-data; boundary=x", "x-request-id": requestId },
        body: Buffer.alloc(limits[path as keyof typeof limits]),
      });
      // The api answers (its video routes are unconfigured here), not nginx's limit.
      expect(reply.status, path).not.toBe(413);
      expect((await logLine(requestId))?.upstream_addr, path).not.toBe("");
    }
  });

  it("gzips large JSON for clients that accept it, byte-identical once unzipped", async () => {
    const body = JSON.stringify({ term, limit: 100 });
    const headers = { "content-type": "application/json" };
    const direct = await send(cluster.replicas[0]?.url ?? "", {
      method: "POST",
      path: "/v1/courses/search",
      headers,
      body,
    });
    expect(direct.body.length).toBeGreaterThan(10_000);
    const zipped = await send(nginx.url, {
      method: "POST",
      path: "/v1/courses/search",
      headers: { ...headers, "accept-encoding": "gzip" },
      body,
    });
    expect(zipped.status).toBe(200);
    expect(zipped.headers["content-encoding"]).toBe("gzip");
    expect(zipped.headers.vary).toMatch(/Accept-Encoding/);
    expect(zipped.body.length * 3).toBeLessThan(direct.body.length);
    expect(gunzipSync(zipped.body).equals(direct.body)).toBe(true);

    const plain = await send(nginx.url, { method: "POST", path: "/v1/courses/search", headers, body });
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(plain.body.equals(direct.body)).toBe(true);
  });

  it("carries one X-Request-Id from the client through nginx's and the api's logs and back", async () => {
    const ids = (reply: Reply) =>
      reply.rawHeaders.filter((_, i) => i % 2 === 0 && reply.rawHeaders[i]?.toLowerCase() === "x-request-id");

    const mine = await send(nginx.url, { path: "/v1/terms", headers: { "x-request-id": "trace-7f3a.b:c" } });
    expect(mine.headers["x-request-id"]).toBe("trace-7f3a.b:c");
    expect(ids(mine)).toHaveLength(1);
    expect((await logLine("trace-7f3a.b:c"))?.status).toBe(200);
    await waitUntil(() => apiLogged("trace-7f3a.b:c").length === 1, "the api to log the request");

    // None, or one the api would refuse: nginx mints one, and everybody uses it.
    for (const header of [{}, { "x-request-id": "not acceptable!" }] as Record<string, string>[]) {
      const minted = await send(nginx.url, { path: "/v1/terms", headers: header });
      const id = String(minted.headers["x-request-id"]);
      expect(id).toMatch(/^[0-9a-f]{32}$/);
      expect(ids(minted)).toHaveLength(1);
      expect(await logLine(id)).toBeDefined();
      await waitUntil(() => apiLogged(id).length === 1, "the api to log nginx's id");
    }
  });

  it("answers its own 502 problem page when no replica is up", async () => {
    await Promise.all(cluster.replicas.map((replica) => replica.stop("SIGKILL")));
    for (const method of ["GET", "POST"]) {
      const reply = await send(nginx.url, {
        method,
        path: method === "GET" ? "/v1/terms" : "/v1/courses/search",
        headers: { "x-request-id": `down-${method}`, "content-type": "application/json" },
        body: method === "POST" ? "{}" : undefined,
      });
      expect(reply.status).toBe(502);
      expect(reply.headers["content-type"]).toBe("application/problem+json");
      expect(reply.headers["retry-after"]).toBe("2");
      expect(json(reply)).toMatchObject({
        status: 502,
        title: "Bad Gateway",
        code: "upstream_unavailable",
        requestId: `down-${method}`,
      });
    }
    // nginx itself stays alive for its healthcheck.
    expect((await send(nginx.url, { path: "/nginx-health" })).status).toBe(200);
  });
});
