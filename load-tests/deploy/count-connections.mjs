// Preloaded into test api processes (NODE_OPTIONS=--import): one stderr line per accepted TCP connection,
// so a test counts the connections the api really saw. Plain JS so it works with tsx and the compiled build.
import { subscribe } from "node:diagnostics_channel";

subscribe("net.server.socket", ({ socket }) => {
  process.stderr.write(
    `${JSON.stringify({ msg: "test: connection accepted", remotePort: socket.remotePort })}\n`,
  );
});
