// Child process for the answer benchmark: the real api entry point (api/src/main.ts, or its build), tied to
// the parent's life.

// main.ts drains on SIGTERM but does not watch an IPC channel; the parent's channel closing means the
// benchmark is gone (even killed hard), so turn that into the api's own graceful stop.
process.on("disconnect", () => {
  process.kill(process.pid, "SIGTERM");
  // If draining hangs on a half-open connection, do not outlive the parent for long.
  setTimeout(() => process.exit(1), 15_000).unref();
});
// "build": the compiled api (dist), as production runs it; otherwise the TypeScript through tsx.
const entry = process.argv[2] === "build" ? "../../api/dist/main.js" : "@kogi/api/main";
await import(entry);
