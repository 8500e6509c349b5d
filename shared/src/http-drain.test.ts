// HttpDrain on a real loopback server: keep-alive clients are told `Connection: close` and none of their
// requests fails, a request still in progress holds drain() open, and a connection accepted just before
// the listener stopped still gets its answer.
import { once } from "node:events";
import { Agent, createServer, request, type Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { HttpDrain } from "./http-drain.js";

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function startServer(drain: HttpDrain, slow: Promise<void>) {
  const server = drain.track(
    createServer(
      drain.listener(async (req, res) => {
        if (req.url === "/slow") await slow;
        res.end("ok");
      }),
    ),
  );
  server.listen(0, "127.0.0.1");
  return server;
}

const get = (server: Server, agent: Agent, path: string) =>
  new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
    const { port } = server.address() as AddressInfo;
    request({ host: "127.0.0.1", port, path, agent }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
    })
      .on("error", reject)
      .end();
  });

describe("HttpDrain", () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  it("tells keep-alive clients to close, loses no request, and resolves after the last one", async () => {
    const drain = new HttpDrain();
    let release = () => {};
    const server = startServer(drain, new Promise<void>((resolve) => (release = resolve)));
    await once(server, "listening");
    // A socket for each client and one for the slow request: no request waits for a socket and then
    // opens a new connection, which could land in the listen backlog just as the listener closes.
    const agent = new Agent({ keepAlive: true, maxSockets: 11 });
    cleanups.push(() => agent.destroy());
    // An idle keep-alive socket from before the signal must not keep drain() waiting.
    const idle = new Agent({ keepAlive: true });
    cleanups.push(() => idle.destroy());
    await get(server, idle, "/fast");

    let draining = false;
    let answered = 0;
    const failures: string[] = [];
    const afterDrain: (string | undefined)[] = [];
    // Ten clients in a closed loop on their keep-alive sockets; each stops when told `Connection: close`,
    // as a client (or proxy) that then goes to another replica.
    const clients = Array.from({ length: 10 }, async () => {
      for (;;) {
        const sentWhileDraining = draining;
        const response = await get(server, agent, "/fast").catch((error: Error) => {
          failures.push(error.message);
          return undefined;
        });
        if (!response) return;
        answered++;
        if (response.status !== 200) failures.push(`status ${response.status}`);
        if (sentWhileDraining) afterDrain.push(response.connection);
        if (response.connection === "close") return;
      }
    });
    await waitFor(() => answered >= 50, "the load to run");
    const slow = get(server, agent, "/slow");
    await waitFor(() => drain.inFlight >= 1, "the slow request to arrive");

    draining = true;
    let drained = false;
    const done = drain.drain(server, { delayMs: 100, graceMs: 10_000, idleMs: 100 }).then((result) => {
      drained = true;
      return result;
    });
    await Promise.all(clients);
    await waitFor(() => !server.listening, "the listener to stop");
    expect(drained).toBe(false); // the slow request is still running
    release();
    const slowResponse = await slow;
    const result = await done;

    expect(failures).toEqual([]);
    expect(afterDrain.length).toBeGreaterThan(0);
    expect(afterDrain.every((connection) => connection === "close")).toBe(true);
    expect(slowResponse).toEqual({ status: 200, connection: "close" });
    expect(result).toMatchObject({ cutConnections: 0, unfinishedRequests: 0 });
    expect(drain.inFlight).toBe(0);
  });

  it("answers a request sent on a connection accepted just before the listener stopped", async () => {
    const drain = new HttpDrain();
    const server = startServer(drain, Promise.resolve());
    await once(server, "listening");
    let accepted = 0;
    server.on("connection", () => accepted++);
    const socket = connect((server.address() as AddressInfo).port, "127.0.0.1");
    cleanups.push(() => socket.destroy());
    await waitFor(() => accepted === 1, "the connection to be accepted");

    const done = drain.drain(server, { delayMs: 0, graceMs: 10_000, idleMs: 5_000 });
    await waitFor(() => !server.listening, "the listener to stop");
    // http.Server#close() would have destroyed this connection: it had no request in progress yet.
    let answer = "";
    socket.setEncoding("utf8").on("data", (chunk: string) => {
      answer += chunk;
    });
    socket.write("GET /fast HTTP/1.1\r\nHost: kogi\r\n\r\n");
    await once(socket, "end");
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(answer).toMatch(/\r\nConnection: close\r\n/i);
    expect(await done).toMatchObject({ servedWhileDraining: 1, cutConnections: 0 });
  });

  it("cuts what is still running when the grace period ends, and says so", async () => {
    const drain = new HttpDrain();
    const server = startServer(drain, new Promise<void>(() => {}));
    await once(server, "listening");
    const agent = new Agent({ keepAlive: true });
    cleanups.push(() => agent.destroy());
    const stuck = get(server, agent, "/slow").catch((error: Error) => error.message);
    await waitFor(() => drain.inFlight === 1, "the stuck request to arrive");
    const result = await drain.drain(server, { delayMs: 0, graceMs: 300, idleMs: 100 });
    expect(result).toMatchObject({ cutConnections: 1, unfinishedRequests: 1 });
    expect(await stuck).toMatch(/socket hang up|ECONNRESET/);
  });
});
