// Wake-ups between processes: "a job was queued", "job X changed" (and "finished": it reached its
// end, so its caller's webhook is due), "D-ID hinted at job X's talk".
// Only hints: every receiver re-reads MySQL (or D-ID), and each waiter also polls, so a message lost
// while Redis is away delays a wake-up by one poll interval and never loses work.
import { EventEmitter } from "node:events";
import type { Redis } from "ioredis";

type Kind = "queued" | "changed" | "finished" | "hint";

export class JobEvents {
  readonly #local = new EventEmitter();
  readonly #channel: string;

  constructor(
    private readonly publisher: Redis | undefined,
    private readonly subscriber: Redis | undefined,
    prefix: string,
  ) {
    this.#channel = `${prefix}videos:events`;
    this.#local.setMaxListeners(0);
    if (subscriber) {
      subscriber.on("message", (channel: string, message: string) => {
        if (channel !== this.#channel) return;
        const [kind, id = ""] = message.split(" ");
        this.#local.emit(kind as Kind, id);
      });
      // Not awaited: with Redis down the subscription waits for it; ioredis re-subscribes on reconnect.
      subscriber.subscribe(this.#channel).catch(() => undefined);
    }
  }

  queued(): void {
    this.#emit("queued", "");
  }

  changed(jobId: string): void {
    this.#emit("changed", jobId);
  }

  /** Changed into an end state: waiters wake, and the caller's webhook is due. */
  finished(jobId: string): void {
    this.#emit("changed", jobId);
    this.#emit("finished", jobId);
  }

  hint(jobId: string): void {
    this.#emit("hint", jobId);
  }

  /** Returns the function that stops listening. */
  on(kind: Kind, listener: (jobId: string) => void): () => void {
    this.#local.on(kind, listener);
    return () => this.#local.off(kind, listener);
  }

  close(): void {
    this.#local.removeAllListeners();
    this.subscriber?.disconnect();
  }

  #emit(kind: Kind, id: string): void {
    // This process hears it at once; others through Redis (a duplicate wake-up here is harmless).
    this.#local.emit(kind, id);
    this.publisher?.publish(this.#channel, `${kind} ${id}`).catch(() => undefined);
  }
}
