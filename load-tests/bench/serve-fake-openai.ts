// Child process for the answer benchmark: the fake OpenAI on loopback, with its stats and reset over IPC.
import { startFakeOpenAI } from "@kogi/shared/fakes/openai-server";

// Latencies come from the parent, like `scripts/dev-fakes.ts --chat-latency --embed-latency`.
const chatLatencyMs = Number(process.env.FAKE_CHAT_LATENCY_MS ?? 1500);
const embedLatencyMs = Number(process.env.FAKE_EMBED_LATENCY_MS ?? 150);

const fake = await startFakeOpenAI({
  apiKey: process.env.FAKE_API_KEY ?? "fake-key",
  chat: { latencyMs: chatLatencyMs },
  embeddings: { latencyMs: embedLatencyMs },
  // Only counters are read; a small record list keeps stats() cheap.
  recordLimit: 100,
});

/** Counters only: the arrival and disconnect lists are not needed and would bloat every IPC message. */
function counters() {
  const stats = fake.stats();
  const strip = ({ arrivals: _a, disconnected: _d, ...rest }: typeof stats.chat) => rest;
  return { chat: strip(stats.chat), embeddings: strip(stats.embeddings), unmatched: stats.unmatched };
}

process.on("message", (message: { id: number; type: "stats" | "reset" }) => {
  if (message.type === "reset") fake.reset();
  process.send?.({ id: message.id, stats: counters() });
});

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await fake.close();
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
// The parent's IPC channel closing means the parent is gone: never outlive it.
process.on("disconnect", () => void stop());
process.stdout.write(`${JSON.stringify({ port: fake.port, url: fake.url })}\n`);
