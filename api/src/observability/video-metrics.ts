// Video job gauges, read from MySQL at scrape time (jobs of every process, not just this one).
import { Gauge, type Registry } from "prom-client";
import { VIDEO_STATUSES, type VideoRepository } from "../adapters/mysql/video-repository.js";

export function registerVideoMetrics(
  registry: Registry,
  jobs: VideoRepository,
  onError: (error: Error) => void,
) {
  new Gauge({
    name: "kogi_video_jobs",
    help: "Video jobs by status (all processes)",
    labelNames: ["status"],
    // Every api worker reads the same MySQL counts: an api cluster's /metrics must not add them up.
    aggregator: "max",
    registers: [registry],
    async collect() {
      try {
        const counts = await jobs.countsByStatus();
        for (const status of VIDEO_STATUSES) this.set({ status }, counts[status]);
      } catch (error) {
        onError(error as Error);
      }
    },
  });
  new Gauge({
    name: "kogi_video_oldest_queued_seconds",
    help: "Age of the oldest queued video job (0 when none)",
    aggregator: "max",
    registers: [registry],
    async collect() {
      try {
        this.set(await jobs.oldestQueuedAgeSeconds());
      } catch (error) {
        onError(error as Error);
      }
    },
  });
}
