// Child process for the video benchmark: the fake D-ID on loopback, started with the JSON options in FAKE_D_ID_OPTIONS.
// Its own process, so the fake's work (multipart parsing, talk clocks) never shares an event loop with the clients.
// Stats and reset go over the fake's own HTTP routes (GET /__fake/stats, POST /__fake/reset).
import { type FakeDIdOptions, startFakeDId } from "@kogi/shared/fakes/d-id-server";

const options = JSON.parse(process.env.FAKE_D_ID_OPTIONS ?? "{}") as FakeDIdOptions;
const fake = await startFakeDId({ ...options, host: "127.0.0.1", port: 0 });

// A signal, or the parent's IPC channel closing (the parent is gone, even killed hard): close and exit.
const stop = () => void fake.close().finally(() => process.exit(0));
for (const event of ["SIGTERM", "SIGINT", "disconnect"] as const) process.once(event, stop);
process.stdout.write(`${JSON.stringify({ port: fake.port })}\n`);
