// `npm start`: the api, then (on a fresh machine) the demo vector index, then the vector sidecar, each
// `node` on the built JavaScript (`npm start` builds first when the build is stale). Both run as child
// processes; a signal to this process is passed on, and either one dying stops both.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "@kogi/shared/config";
import { readCurrentVersion, readManifest } from "@kogi/vector-worker/index-format";

const config = loadConfig();
// This file runs as dist/start-all.js; both it and scripts/ sit one level below the repository root.
const root = fileURLToPath(new URL("../", import.meta.url));
const built = (path: string) => join(root, path);
const children: ChildProcess[] = [];

function node(script: string): ChildProcess {
  return spawn(process.execPath, ["--enable-source-maps", built(script)], { stdio: "inherit" });
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

async function apiReady(): Promise<number> {
  const url = `http://127.0.0.1:${config.PORT}/health`;
  for (let i = 0; i < 600; i++) {
    const health = await fetch(url).then(
      (r) => (r.ok ? (r.json() as Promise<{ catalogVersion: number }>) : undefined),
      () => undefined,
    );
    if (health) return health.catalogVersion;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error("the api did not come up within 2 minutes");
}

async function indexIsCurrent(catalogVersion: number): Promise<boolean> {
  const version = await readCurrentVersion(config.VECTOR_INDEX_DIR);
  if (!version) return false;
  const manifest = await readManifest(join(config.VECTOR_INDEX_DIR, version)).catch(() => undefined);
  return manifest?.catalogVersion === catalogVersion;
}

for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.on(signal, () => {
    for (const child of children) if (child.exitCode === null) child.kill(signal);
  });

run("api", "api/dist/main.js");
const catalogVersion = await apiReady();
if (!(await indexIsCurrent(catalogVersion))) {
  console.error("building the vector index for the current catalog (npm run index:build)");
  const build = node("vector-worker/dist/index-build.js");
  const code = await new Promise<number | null>((resolve) => build.once("exit", resolve));
  if (code !== 0) console.error("index build failed; the sidecar starts without an index and /ready says so");
}
run("vector sidecar", "vector-worker/dist/main.js");
