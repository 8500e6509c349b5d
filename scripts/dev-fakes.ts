// `npm run dev:fakes`: a loopback fake OpenAI (chat + embeddings) for local development until a signal.
import { parseArgs } from "node:util";
import { startFakeOpenAI } from "@kogi/shared/fakes/openai-server";

const usage = `Usage: tsx scripts/dev-fakes.ts [options]
  --port <n>            listen port (default 8787; 0 = any free port)
  --host <addr>         listen address (default 127.0.0.1)
  --chat-latency <ms>   delay before each chat completion (default 1500, roughly a real rewrite)
  --embed-latency <ms>  delay before each embeddings answer (default 150)
  --jitter <ms>         extra random delay on both endpoints (default 0)
  --dims <n>            embedding length (default 1536, as text-embedding-3-small)
  --api-key <key>       key the fake requires (default fake-key)`;

function fail(message: string): never {
  console.error(`${message}\n\n${usage}`);
  process.exit(2);
}

function number(name: string, raw: string, min: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) fail(`--${name} must be an integer >= ${min}, got "${raw}"`);
  return value;
}

let parsed: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      port: { type: "string", default: "8787" },
      host: { type: "string", default: "127.0.0.1" },
      "chat-latency": { type: "string", default: "1500" },
      "embed-latency": { type: "string", default: "150" },
      jitter: { type: "string", default: "0" },
      dims: { type: "string", default: "1536" },
      "api-key": { type: "string", default: "fake-key" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}
try {
  parsed = parse();
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
const { values } = parsed;
if (values.help) {
  console.log(usage);
  process.exit(0);
}

const jitterMs = number("jitter", values.jitter, 0);
const apiKey = values["api-key"];
const fake = await startFakeOpenAI({
  port: number("port", values.port, 0),
  host: values.host,
  apiKey,
  dims: number("dims", values.dims, 1),
  chat: { latencyMs: number("chat-latency", values["chat-latency"], 0), jitterMs },
  embeddings: { latencyMs: number("embed-latency", values["embed-latency"], 0), jitterMs },
});

console.log(`fake OpenAI listening at ${fake.url}`);
console.log("use it with:");
console.log(`  OPENAI_BASE_URL=${fake.url} OPENAI_API_KEY=${apiKey} EMBEDDING_DIMS=${values.dims}`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    // A second signal means the first close is stuck; leave at once.
    if (stopping) process.exit(1);
    stopping = true;
    const { chat, embeddings } = fake.stats();
    console.log(`\n${signal}: closing after ${chat.total} chat and ${embeddings.total} embeddings requests`);
    fake.close().then(() => process.exit(0));
  });
}
