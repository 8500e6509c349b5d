// `npm run build`: compiles every package's entry points to JavaScript with esbuild (one ES module
// per entry, workspace code bundled in, node_modules left as imports) into <package>/dist/.
// `--if-stale` (what `npm start` and the CLIs run first) only builds when an input of the last build
// changed or an output is missing: a stat per input, ~50 ms. Plain JavaScript so that node runs it
// without any TypeScript loader; esbuild is loaded only when a build actually happens.
import {
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const MANIFEST = join(ROOT, "dist/.build-manifest.json");
const SELF = fileURLToPath(import.meta.url);

/**
 * Every entry point, by package. Each package's bundles sit side by side in its dist/, so files found
 * next to the code (`import.meta.url`) are found next to every bundle: the migrations beside the api's
 * CLIs, the Piscina worker beside the sidecar.
 */
const PACKAGES = [
  {
    outdir: "api/dist",
    entries: {
      main: "api/src/main.ts",
      migrate: "api/src/cli/migrate.ts",
      "catalog-import": "api/src/cli/catalog-import.ts",
      "catalog-generate": "api/src/cli/catalog-generate.ts",
    },
    assets: { migrations: "api/src/adapters/mysql/migrations" },
  },
  {
    outdir: "vector-worker/dist",
    entries: {
      main: "vector-worker/src/main.ts",
      worker: "vector-worker/src/worker.ts",
      "index-build": "vector-worker/src/cli/index-build.ts",
    },
    assets: {},
  },
  {
    outdir: "dist",
    entries: { "start-all": "scripts/start-all.ts", "dev-fakes": "scripts/dev-fakes.ts" },
    assets: {},
  },
];
/** Not imported by the code, but they change what a bundle resolves to. */
const EXTRA_INPUTS = [
  "package.json",
  "shared/package.json",
  "api/package.json",
  "vector-worker/package.json",
];

const stamp = (path) => {
  const stats = statSync(join(ROOT, path));
  return `${stats.mtimeMs}:${stats.size}`;
};

/** Why a build is needed, or undefined when the last one is current. */
function staleReason() {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(MANIFEST, "utf8"));
  } catch {
    return "no build yet";
  }
  if (manifest.builder !== stamp(relative(ROOT, SELF))) return "the build script changed";
  for (const output of manifest.outputs) {
    try {
      statSync(join(ROOT, output));
    } catch {
      return `${output} is missing`;
    }
  }
  for (const [path, expected] of Object.entries(manifest.inputs)) {
    let actual;
    try {
      actual = stamp(path);
    } catch {
      actual = "missing";
    }
    if (actual !== expected) return `${path} changed`;
  }
  return undefined;
}

/** One build at a time per checkout: a second one waits, then finds the output current. */
async function withLock(work) {
  const lock = join(ROOT, ".cache/build.lock");
  mkdirSync(dirname(lock), { recursive: true });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
      // A lock left by a build that was killed is older than any real build.
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })?.mtimeMs > 120_000)
        rmSync(lock, { force: true, recursive: true });
      if (Date.now() > deadline) throw new Error(`build lock ${lock} held for 2 minutes`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { force: true, recursive: true });
  }
}

/** Bundles workspace code (`@kogi/*` and relative imports); every other package stays an import. */
const workspaceOnly = {
  name: "workspace-only",
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith("@kogi/") ? undefined : { path: args.path, external: true },
    );
  },
};

async function build() {
  const { build: esbuild } = await import("esbuild");
  const started = performance.now();
  const staging = join(ROOT, `.cache/build-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  const inputs = {};
  const outputs = [];
  const externals = new Set();
  for (const pkg of PACKAGES) {
    const result = await esbuild({
      absWorkingDir: ROOT,
      entryPoints: Object.entries(pkg.entries).map(([out, entry]) => ({ in: entry, out })),
      outdir: pkg.outdir,
      bundle: true,
      // Code behind a dynamic import() goes to a chunk beside the entries and loads only when reached
      // (the api's cluster primary never loads the app). Chunks stay in the package's dist/ itself, so
      // `import.meta.url` in them still finds what sits beside the bundles.
      splitting: true,
      platform: "node",
      format: "esm",
      target: "node20",
      sourcemap: "linked",
      sourcesContent: false,
      plugins: [workspaceOnly],
      metafile: true,
      // Written below into staging with the paths (and source-map paths) of the final location.
      write: false,
      logLevel: "warning",
    });
    for (const file of result.outputFiles) {
      const target = join(staging, relative(ROOT, file.path));
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, file.contents);
    }
    for (const path of Object.keys(result.metafile.inputs)) inputs[path] = stamp(path);
    for (const output of Object.values(result.metafile.outputs))
      for (const { path, external } of output.imports)
        if (external && !path.startsWith("node:")) externals.add(path);
    for (const out of Object.keys(pkg.entries)) outputs.push(`${pkg.outdir}/${out}.js`);
    for (const [name, from] of Object.entries(pkg.assets)) {
      mkdirSync(join(staging, pkg.outdir, name), { recursive: true });
      // The folder's own stamp changes when a file is added or removed.
      inputs[from] = stamp(from);
      for (const file of readdirSync(join(ROOT, from))) {
        copyFileSync(join(ROOT, from, file), join(staging, pkg.outdir, name, file));
        inputs[`${from}/${file}`] = stamp(`${from}/${file}`);
      }
    }
  }
  // Each dist/ is swapped in whole, so a process starting meanwhile sees the old build or the new one.
  for (const { outdir } of PACKAGES) {
    const final = join(ROOT, outdir);
    const old = `${final}.old-${process.pid}`;
    rmSync(old, { recursive: true, force: true });
    try {
      renameSync(final, old);
    } catch (error) {
      if (error.code !== "ENOENT") throw error;
    }
    renameSync(join(staging, outdir), final);
    rmSync(old, { recursive: true, force: true });
  }
  rmSync(staging, { recursive: true, force: true });
  for (const path of EXTRA_INPUTS) inputs[path] = stamp(path);
  // `externals`: the packages the built code imports, which the production image must carry.
  const manifest = {
    builder: stamp(relative(ROOT, SELF)),
    outputs,
    externals: [...externals].sort(),
    inputs,
  };
  writeFileSync(MANIFEST, `${JSON.stringify(manifest, null, 1)}\n`);
  return { ms: Math.round(performance.now() - started), files: Object.keys(inputs).length };
}

const ifStale = process.argv.includes("--if-stale");
const reason = staleReason();
if (ifStale && !reason) process.exit(0);
await withLock(async () => {
  // Whoever held the lock may just have built the same sources.
  const stillStale = staleReason();
  if (ifStale && !stillStale) return;
  console.error(`build: compiling (${stillStale ?? reason ?? "asked to"})`);
  const { ms, files } = await build();
  console.error(`build: ${files} inputs -> api/dist, vector-worker/dist, dist in ${ms} ms`);
});
