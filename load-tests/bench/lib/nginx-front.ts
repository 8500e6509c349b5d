// The repo's nginx (nginx/nginx.conf under Debian's nginx) in front of a benchmark server, for the
// "via nginx" rows: the same file compose runs, with the per-address rate lifted because one load
// generator is one address (limit_req still runs on every request, it just never refuses).
import { type NginxProcess, startNginx } from "../../deploy/nginx-process.js";
import { cleanups } from "./cleanup.js";

export async function nginxInFront(url: string): Promise<NginxProcess> {
  const nginx = await startNginx({
    upstreams: [new URL(url).host],
    substitutions: [["rate=50r/s", "rate=1000000r/s"]],
  });
  cleanups.push(nginx.stop);
  return nginx;
}

/** The target: nginx costs at most 25% of the cache-hit throughput at 50 connections. */
export function nginxTargets(hit: { requestsPerSecond: number }, viaNginx: { requestsPerSecond: number }) {
  const cost = 1 - viaNginx.requestsPerSecond / hit.requestsPerSecond;
  return { nginxHitCost: { target: 0.25, actual: Math.round(cost * 1000) / 1000, met: cost <= 0.25 } };
}

export function nginxTargetLines(targets: ReturnType<typeof nginxTargets>): string {
  const { actual, met } = targets.nginxHitCost;
  return `- nginx costs <= 25% of cache-hit throughput: ${Math.round(actual * 100)}% -> ${met ? "MET" : "NOT MET"}`;
}
