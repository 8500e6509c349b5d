// Child process for the crashed-holder test: takes the only slot of a shared Upstream and never gives it
// back (it keeps renewing the lease) until it is killed. Env: REDIS_URL, PREFIX, LEASE_MS.
import { Upstream } from "../upstream.js";
import { connectRedis, ready, upstreamOptions } from "./fixtures.js";

// Never outlive a test run that died without killing us.
setTimeout(() => process.exit(2), 60_000).unref();

const redis = await ready(connectRedis(process.env.REDIS_URL));
const upstream = new Upstream(
  upstreamOptions({
    name: "crash",
    redis,
    prefix: process.env.PREFIX,
    maxConcurrent: 1,
    leaseMs: Number(process.env.LEASE_MS),
    attemptTimeoutMs: 600_000,
  }),
);

await upstream.call(() => {
  process.stdout.write("holding\n");
  return new Promise<never>(() => {});
});
