// Child process for the benchmark: the floor to compare with, a bare Hono route replaying one search response.
import { loadConfig } from "@kogi/shared/config";
import { Hono } from "hono";
import { listenOnLoopback } from "./lib/listen.js";

interface Reply {
  body: string;
  contentType: string;
}

// The parent sends a real cached search response. Kept as a string because the api sends its cached
// JSON as a string too, so both take the same path through @hono/node-server.
const reply = await new Promise<Reply>((resolve) => process.once("message", (m) => resolve(m as Reply)));

const app = new Hono();
app.post("/v1/courses/search", (c) => c.body(reply.body, 200, { "Content-Type": reply.contentType }));
listenOnLoopback(app.fetch, loadConfig({}).KEEP_ALIVE_TIMEOUT_MS, async () => {});
