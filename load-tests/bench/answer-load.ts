// Child process of the answer benchmark: runs closed-loop loads the parent sends over IPC, one at a time.
import { type LoadSpec, runClosedLoop } from "./lib/closed-loop.js";

type Message = { type: "run"; spec: LoadSpec };

// Its own process so the load's event loop never shares a thread with the parent's probes and scrapes.
process.on("message", (message: Message) => {
  if (message.type !== "run") return;
  runClosedLoop(message.spec, () => process.send?.({ type: "measuring" }))
    .then((result) => process.send?.({ type: "result", result }))
    .catch((error: Error) => process.send?.({ type: "error", message: error.stack ?? error.message }));
});
// The parent's IPC channel closing means the parent is gone: never outlive it.
process.on("disconnect", () => process.exit(0));
process.send?.({ type: "ready" });
