// `npm start`: the api, then the vector index when it does not fit the catalog or the configured
// embedder (a fresh machine, an import, OPENAI_API_KEY set since the last build), then the vector
// sidecar, each `node` on the built JavaScript (`npm start` builds first when the build is stale). Both
// run as child processes; a signal to this process is passed on, and either one dying stops both. The
// api reaches the sidecar at VECTOR_PORT unless VECTOR_URL says otherwise (see config.ts).
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "@kogi/shared/config";

const config = loadConfig();
// This file runs as dist/start-all.js; both it and scripts/ sit one level below the repository root.
const root = fileURLToPath(new URL("../", import.meta.url));
const built = (path: string) => join(root, path);
const children: ChildProcess[] = [];

function node(script: string, args: string[] = []): ChildProcess {
  return spawn(process.execPath, ["--enable-source-maps", built(script), ...args], { stdio: "inherit" });
}

function run(name: string, script: string): ChildProcess {
  const child = node(script);
  child.once("exit", (code, signal) => {
    console.error(`${name} exited (${signal ?? code}); stopping`);
    for (const other of children) if (other !== child && other.exitCode === null) other.kill("SIGTERM");
    process.exitCode = code ?? 1;
  });
  children.push(child);
  return child;
}

async function apiReady(): Promise<void> {
  const url = `http://127.0.0.1:${config.PORT}/health`;
  for (let i = 0; i < 600; i++) {
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error("the api did not come up within 2 minutes");
}

for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.on(signal, () => {
    for (const child of children) if (child.exitCode === null) child.kill(signal);
  });

run("api", "api/dist/main.js");
// The api migrates and loads the demo into an empty database first; then the index is checked (and
// built when it does not fit) before the sidecar starts, so a first start serves vector answers at once.
await apiReady();
const build = node("vector-worker/dist/index-build.js", ["--if-stale"]);
const code = await new Promise<number | null>((resolve) => build.once("exit", resolve));
if (code !== 0)
  console.error(
    "index build failed; the sidecar starts without it, /ready says so, and it retries by itself",
  );
run("vector sidecar", "vector-worker/dist/main.js");
