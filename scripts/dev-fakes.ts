// `npm run dev:fakes`: loopback fakes of OpenAI (chat + embeddings) and D-ID (talks) for local development until a signal.
import { parseArgs } from "node:util";
import { startFakeDId } from "@kogi/shared/fakes/d-id-server";
import { startFakeOpenAI } from "@kogi/shared/fakes/openai-server";

const usage = `Usage: npm run dev:fakes -- [options]
  --port <n>            fake OpenAI listen port (default 8787; 0 = any free port)
  --host <addr>         listen address of both fakes (default 127.0.0.1)
  --chat-latency <ms>   delay before each chat completion (default 1500, roughly a real rewrite)
  --embed-latency <ms>  delay before each embeddings answer (default 150)
  --jitter <ms>         extra random delay on both endpoints (default 0)
  --dims <n>            embedding length (default 1536, as text-embedding-3-small)
  --api-key <key>       key the fake OpenAI requires (default fake-key)
  --d-id-port <n>                fake D-ID listen port (default 8788; 0 = any free port)
  --d-id-queue-ms <ms>           talk created -> started (default 1000)
  --d-id-render-ms <ms>          talk started -> done (default 1500)
  --d-id-max-in-progress <n>     talks in process at once; more wait in "created" (default unlimited)
  --d-id-allow-http-webhooks     accept http:// webhooks (real D-ID takes https only)

Steer the running fake D-ID: POST /__fake/behavior with a JSON patch, POST /__fake/reset, GET /__fake/stats.`;

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
      "d-id-port": { type: "string", default: "8788" },
      "d-id-queue-ms": { type: "string", default: "1000" },
      "d-id-render-ms": { type: "string", default: "1500" },
      "d-id-max-in-progress": { type: "string" },
      "d-id-allow-http-webhooks": { type: "boolean", default: false },
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

const maxInProgress = values["d-id-max-in-progress"];
const dId = await startFakeDId({
  port: number("d-id-port", values["d-id-port"], 0),
  host: values.host,
  queueMs: number("d-id-queue-ms", values["d-id-queue-ms"], 0),
  renderMs: number("d-id-render-ms", values["d-id-render-ms"], 0),
  maxInProgress: maxInProgress === undefined ? undefined : number("d-id-max-in-progress", maxInProgress, 0),
  allowHttpWebhooks: values["d-id-allow-http-webhooks"],
});

console.log(`fake OpenAI listening at ${fake.url}`);
console.log(`fake D-ID listening at ${dId.url}`);
console.log("use them with:");
console.log(`  OPENAI_BASE_URL=${fake.url} OPENAI_API_KEY=${apiKey} EMBEDDING_DIMS=${values.dims}`);
console.log(`  D_ID_BASE_URL=${dId.url} D_ID_API_KEY=${dId.apiKey}`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    // A second signal means the first close is stuck; leave at once.
    if (stopping) process.exit(1);
    stopping = true;
    const { chat, embeddings } = fake.stats();
    const { talksCreated } = dId.stats();
    console.log(
      `\n${signal}: closing after ${chat.total} chat and ${embeddings.total} embeddings requests, ${talksCreated} talks`,
    );
    Promise.all([fake.close(), dId.close()]).then(() => process.exit(0));
  });
}
