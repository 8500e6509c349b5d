// Child process for the vector benchmark: the real sidecar entry point (vector-worker/src/main.ts), tied to the parent's life.

// main.ts drains on SIGTERM but does not watch an IPC channel; the parent's channel closing means the
// benchmark is gone (even killed hard), so turn that into the sidecar's own graceful stop.
process.on("disconnect", () => {
  process.kill(process.pid, "SIGTERM");
  // If draining hangs on a half-open connection, do not outlive the parent for long.
  setTimeout(() => process.exit(1), 10_000).unref();
});
await import("@kogi/vector-worker/main");
