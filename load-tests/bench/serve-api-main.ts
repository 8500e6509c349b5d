// Child process for the answer benchmark: the real api entry point (api/src/main.ts), tied to the parent's life.

// main.ts drains on SIGTERM but does not watch an IPC channel; the parent's channel closing means the
// benchmark is gone (even killed hard), so turn that into the api's own graceful stop.
process.on("disconnect", () => {
  process.kill(process.pid, "SIGTERM");
  // If draining hangs on a half-open connection, do not outlive the parent for long.
  setTimeout(() => process.exit(1), 15_000).unref();
});
await import("@kogi/api/main");
