// The repo's nginx (nginx/nginx.conf under Debian's nginx) in front of a benchmark server, for the
// "via nginx" rows: the same file compose runs, with the per-address rate lifted because one load
// generator is one address (limit_req still runs on every request, it just never refuses).
import { type NginxProcess, startNginx } from "../../deploy/nginx-process.js";
import { cleanups } from "./cleanup.js";
import { DISTURBED_CORES } from "./video-cpu.js";

export async function nginxInFront(url: string): Promise<NginxProcess> {
  const nginx = await startNginx({
    upstreams: [new URL(url).host],
    substitutions: [["rate=50r/s", "rate=1000000r/s"]],
  });
  cleanups.push(nginx.stop);
  return nginx;
}

interface HitRow {
  requestsPerSecond: number;
  cpu?: Record<string, number>;
}

/**
 * The target: nginx costs at most 25% of the cache-hit throughput at 50 connections; not decided
 * when other work on the machine disturbed either row.
 */
export function nginxTargets(hit: HitRow, viaNginx: HitRow) {
  const cost = 1 - viaNginx.requestsPerSecond / hit.requestsPerSecond;
  const disturbed = Math.max(hit.cpu?.others ?? 0, viaNginx.cpu?.others ?? 0) > DISTURBED_CORES;
  return {
    nginxHitCost: { target: 0.25, actual: Math.round(cost * 1000) / 1000, met: cost <= 0.25, disturbed },
  };
}

/** The same cost for the production entry point's rows (API_WORKERS=1 and 2): information beside the target. */
export function nginxTargetLines(
  targets: ReturnType<typeof nginxTargets>,
  clusters: {
    workers: number;
    hit: { requestsPerSecond: number };
    viaNginx: { requestsPerSecond: number };
  }[] = [],
): string {
  const { actual, met } = targets.nginxHitCost;
  const percent = (cost: number) => `${Math.round(cost * 100)}%`;
  const others = clusters.map(
    ({ workers, hit, viaNginx }) =>
      `API_WORKERS=${workers} ${percent(nginxTargets(hit, viaNginx).nginxHitCost.actual)}`,
  );
  return (
    `- nginx costs <= 25% of cache-hit throughput: ${percent(actual)} -> ${met ? "MET" : "NOT MET"}` +
    (others.length ? ` (compiled cluster: ${others.join(", ")})` : "")
  );
}
