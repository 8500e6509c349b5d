// Child process for the two-process test: many calls through one shared Upstream, each tracking in Redis
// how many calls (of every process) run at the same time. Prints "ready", waits for the go key, then
// prints a JSON summary. Env: REDIS_URL, PREFIX, CALLS, MAX_CONCURRENT, LANES (calls this process
// keeps going at once; default all of them).
import { setTimeout as sleep } from "node:timers/promises";
import { Upstream } from "../upstream.js";
import { connectRedis, ready, upstreamOptions } from "./fixtures.js";

// Never outlive a test run that died without killing us.
setTimeout(() => process.exit(2), 60_000).unref();

// INCR the running count and keep the highest value seen, atomically.
const ENTER = `
local running = redis.call('INCR', KEYS[1])
if running > tonumber(redis.call('GET', KEYS[2]) or '0') then redis.call('SET', KEYS[2], running) end
return running`;

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const prefix = env("PREFIX");
const calls = Number(env("CALLS"));
const lanes = Number(process.env.LANES ?? calls);
const redis = await ready(connectRedis(env("REDIS_URL")));
const upstream = new Upstream(
  upstreamOptions({
    name: "overlap",
    redis,
    prefix,
    maxConcurrent: Number(env("MAX_CONCURRENT")),
    pollMs: 5,
  }),
);

process.stdout.write("ready\n");
while (!(await redis.exists(`${prefix}go`))) await sleep(5);

const oneCall = () =>
  upstream.call(async () => {
    const start = Date.now();
    await redis.eval(ENTER, 2, `${prefix}running`, `${prefix}max`);
    await sleep(10 + Math.random() * 30);
    await redis.decr(`${prefix}running`);
    await redis.rpush(`${prefix}intervals`, JSON.stringify({ pid: process.pid, start, end: Date.now() }));
  });
let left = calls;
await Promise.all(
  Array.from({ length: lanes }, async () => {
    while (left-- > 0) await oneCall();
  }),
);
process.stdout.write(`${JSON.stringify({ pid: process.pid, stats: upstream.stats() })}\n`);
await upstream.close();
redis.disconnect();
