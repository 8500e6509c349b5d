// OpenAI embedder against a loopback fake of POST /v1/embeddings: batching, ordering, auth, dims, no retries.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { createEmbedder } from "./embedder.js";
import { EmbeddingResponseError, OpenAIEmbedder } from "./openai.js";

interface Recorded {
  authorization: string | undefined;
  body: { model: string; input: string[]; encoding_format?: string };
}

interface FakeOptions {
  /** Length of the vectors returned; defaults to 8. */
  dims?: number;
  status?: number;
  delayMs?: number;
}

const servers: Server[] = [];

afterAll(async () => {
  await Promise.all(
    servers.map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

/** Input "text N" embeds as [N + 1, 1, 0, ...], so the order of results can be read back from the vectors. */
async function startFakeOpenAI(options: FakeOptions = {}) {
  const requests: Recorded[] = [];
  const server = createServer(async (request, response) => {
    if (request.method !== "POST" || request.url !== "/v1/embeddings") {
      response.writeHead(404).end();
      return;
    }
    const body = (await readJson(request)) as Recorded["body"];
    requests.push({ authorization: request.headers.authorization, body });
    if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
    if (options.status && options.status !== 200) {
      response.writeHead(options.status, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: { message: "boom", type: "server_error" } }));
      return;
    }
    const data = body.input.map((text, index) => {
      const embedding = new Array<number>(options.dims ?? 8).fill(0);
      embedding[0] = Number(text.split(" ")[1]) + 1;
      embedding[1] = 1;
      return { object: "embedding", index, embedding };
    });
    // Reversed, to prove the client re-orders by index.
    data.reverse();
    const tokens = body.input.length * 2;
    response.writeHead(200, { "content-type": "application/json" });
    response.end(
      JSON.stringify({
        object: "list",
        data,
        model: body.model,
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      }),
    );
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { baseURL: `http://127.0.0.1:${port}/v1`, requests };
}

const texts = (count: number) => Array.from({ length: count }, (_, i) => `text ${i}`);

describe("OpenAIEmbedder", () => {
  it("batches requests, sends the key, and returns unit vectors in input order", async () => {
    const fake = await startFakeOpenAI();
    const embedder = new OpenAIEmbedder({
      apiKey: "sk-test-123",
      baseURL: fake.baseURL,
      model: "text-embedding-3-small",
      dims: 8,
      batchSize: 100,
    });
    const vectors = await embedder.embed(texts(250));

    expect(fake.requests.map((request) => request.body.input.length)).toEqual([100, 100, 50]);
    for (const request of fake.requests) {
      expect(request.authorization).toBe("Bearer sk-test-123");
      expect(request.body.model).toBe("text-embedding-3-small");
      expect(request.body.encoding_format).toBe("float");
    }
    expect(fake.requests[2]?.body.input[0]).toBe("text 200");
    expect(vectors).toHaveLength(250);
    vectors.forEach((vector, i) => {
      expect(vector).toBeInstanceOf(Float32Array);
      expect(vector.length).toBe(8);
      expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
      expect((vector[0] as number) / (vector[1] as number)).toBeCloseTo(i + 1, 3);
    });
  });

  it("defaults to batches of 96 and the text-embedding-3-small model", async () => {
    const fake = await startFakeOpenAI({ dims: 1536 });
    const embedder = createEmbedder({
      provider: "openai",
      dims: 1536,
      openai: { apiKey: "k", baseURL: fake.baseURL },
    });
    expect(embedder.model).toBe("text-embedding-3-small");
    const vectors = await embedder.embed(texts(200));
    expect(fake.requests.map((request) => request.body.input.length)).toEqual([96, 96, 8]);
    expect(vectors[199]?.length).toBe(1536);
  });

  it("throws a clear error when the model's vectors are not `dims` long", async () => {
    const fake = await startFakeOpenAI({ dims: 4 });
    const embedder = new OpenAIEmbedder({ apiKey: "k", baseURL: fake.baseURL, dims: 8 });
    const failure = embedder.embed(texts(3));
    await expect(failure).rejects.toBeInstanceOf(EmbeddingResponseError);
    await expect(failure).rejects.toThrow(/4-dimensional.*dims is 8/);
  });

  it("embeds blank texts as zero vectors without sending them", async () => {
    const fake = await startFakeOpenAI();
    const embedder = new OpenAIEmbedder({ apiKey: "k", baseURL: fake.baseURL, dims: 8 });
    const vectors = await embedder.embed(["", "text 1", "  ", "text 3"]);
    expect(fake.requests.map((request) => request.body.input)).toEqual([["text 1", "text 3"]]);
    expect(vectors[0]?.every((value) => value === 0)).toBe(true);
    expect(vectors[2]?.every((value) => value === 0)).toBe(true);
    expect((vectors[3]?.[0] as number) / (vectors[3]?.[1] as number)).toBeCloseTo(4, 3);
    expect(await embedder.embed([])).toEqual([]);
    expect(fake.requests).toHaveLength(1);
  });

  it("leaves retries to the caller: one request per failure by default", async () => {
    const fake = await startFakeOpenAI({ status: 500 });
    const embedder = new OpenAIEmbedder({ apiKey: "k", baseURL: fake.baseURL, dims: 8 });
    await expect(embedder.embed(texts(2))).rejects.toThrow();
    expect(fake.requests).toHaveLength(1);
  });

  it("passes the abort signal to the request", async () => {
    const fake = await startFakeOpenAI({ delayMs: 5_000 });
    const embedder = new OpenAIEmbedder({ apiKey: "k", baseURL: fake.baseURL, dims: 8 });
    const started = Date.now();
    await expect(embedder.embed(texts(2), { signal: AbortSignal.timeout(100) })).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
