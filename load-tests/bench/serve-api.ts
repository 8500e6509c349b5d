// Child process for the benchmark: the real api (createServices + createApp), as main.ts runs it.
import { once } from "node:events";
import { createApp } from "@kogi/api/app";
import { createServices } from "@kogi/api/wiring";
import { loadConfig } from "@kogi/shared/config";
import { createLogger } from "@kogi/shared/logger";
import { listenOnLoopback } from "./lib/listen.js";

// The parent prepared the database and passes DATABASE_URL, REDIS_PREFIX, LOG_LEVEL... in the env.
const config = loadConfig(process.env);
const wiring = await createServices(config, createLogger(config.LOG_LEVEL, "kogi-bench-api"));
// Before the first request: otherwise early misses skip the Redis tier while ioredis is connecting.
if (wiring.redis.status !== "ready") await once(wiring.redis, "ready");
await wiring.start();
listenOnLoopback(createApp(wiring.services).fetch, config.KEEP_ALIVE_TIMEOUT_MS, () => wiring.close());
