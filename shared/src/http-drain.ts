// Graceful stop of a node:http server: once draining, every response says `Connection: close`, the
// listener stops, connections retire as they fall idle, and drain() resolves after the last request.
import type { RequestListener, Server, ServerResponse } from "node:http";
import { Server as NetServer, type Socket } from "node:net";

export interface DrainOptions {
  /** Keep accepting this long first (readiness is already off), so a load balancer stops sending. */
  delayMs: number;
  /** Counted from the start of drain(): past it, the remaining connections are cut. */
  graceMs: number;
  /**
   * A connection with no request in progress for this long is closed. It covers a connection accepted
   * just before the listener stopped whose first request is still on its way (loopback: well under 1 ms).
   */
  idleMs?: number;
}

export interface DrainResult {
  /** Requests that started after drain() began (each answered with `Connection: close`). */
  servedWhileDraining: number;
  /** Connections still busy at the end of the grace period, and cut. */
  cutConnections: number;
  /** Handlers still running when drain() gave up waiting for them (0 unless the grace period ran out). */
  unfinishedRequests: number;
}

interface Connection {
  active: number;
  idleSince: number;
}

export class HttpDrain {
  #draining = false;
  #running = 0;
  #servedWhileDraining = 0;
  #wake: (() => void) | undefined;
  readonly #connections = new Map<Socket, Connection>();
  readonly #unanswered = new Set<ServerResponse>();

  get draining(): boolean {
    return this.#draining;
  }

  /** Requests whose handler or response has not finished yet. */
  get inFlight(): number {
    return this.#running;
  }

  /** Wraps the server's request listener so that requests and connections are counted. */
  listener(inner: RequestListener): RequestListener {
    return (req, res) => {
      const connection = this.#connections.get(req.socket);
      if (connection) connection.active++;
      this.#running++;
      this.#unanswered.add(res);
      if (this.#draining) {
        this.#servedWhileDraining++;
        res.setHeader("Connection", "close");
      }
      let pending = 2; // the handler's promise and the response's close
      const settle = () => {
        if (--pending > 0) return;
        this.#running--;
        this.#notify();
      };
      res.once("close", () => {
        this.#unanswered.delete(res);
        if (connection) {
          connection.active--;
          connection.idleSince = Date.now();
        }
        settle();
      });
      let handled: unknown;
      try {
        handled = inner(req, res);
      } catch {
        // @hono/node-server answers errors itself; catching here only keeps the count right.
      }
      Promise.resolve(handled)
        .catch(() => undefined)
        .finally(settle);
    };
  }

  /** Tracks the server's connections; call once, before it listens. */
  track(server: Server): Server {
    server.on("connection", (socket: Socket) => {
      this.#connections.set(socket, { active: 0, idleSince: Date.now() });
      socket.once("close", () => {
        this.#connections.delete(socket);
        this.#notify();
      });
    });
    return server;
  }

  /** Drains `server` (see the file comment); the caller closes its pools once this resolves. */
  async drain(server: Server, { delayMs, graceMs, idleMs = 250 }: DrainOptions): Promise<DrainResult> {
    const started = Date.now();
    this.#draining = true;
    // Responses already being prepared carry the header too; keep-alive clients reconnect elsewhere.
    for (const res of this.#unanswered) if (!res.headersSent) res.setHeader("Connection", "close");
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    // http.Server#close() would also destroy every idle connection at once, including one accepted a
    // moment ago whose request has not been read yet: stop only the listener, retire connections below.
    NetServer.prototype.close.call(server);
    const deadline = started + graceMs;
    let cutConnections = 0;
    for (;;) {
      const now = Date.now();
      let nextCheck = deadline;
      for (const [socket, connection] of this.#connections) {
        if (connection.active > 0) continue;
        const retireAt = connection.idleSince + idleMs;
        if (retireAt <= now) socket.destroy();
        else nextCheck = Math.min(nextCheck, retireAt);
      }
      if (this.#running === 0 && this.#connections.size === 0) break;
      if (now >= deadline) {
        for (const [socket, connection] of this.#connections) {
          if (connection.active > 0) cutConnections++;
          socket.destroy();
        }
        // Cut requests' handlers see their request aborted; give them a moment before the pools close.
        await this.#until(() => this.#running === 0, 1_000);
        break;
      }
      await this.#nextChange(Math.max(1, nextCheck - now));
    }
    return {
      servedWhileDraining: this.#servedWhileDraining,
      cutConnections,
      unfinishedRequests: this.#running,
    };
  }

  #notify() {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #nextChange(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, timeoutMs);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  async #until(condition: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition() && Date.now() < deadline) await this.#nextChange(deadline - Date.now());
  }
}
