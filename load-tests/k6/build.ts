// Bundles the TypeScript k6 scripts into plain ES modules k6 can run: `npx tsx load-tests/k6/build.ts [outdir]`.
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = fileURLToPath(new URL(".", import.meta.url));

export const K6_SCRIPTS = ["search", "answer", "mixed"] as const;
export const DEFAULT_OUTDIR = resolve(here, "dist");

/** Writes `<outdir>/<script>.js` for every k6 script and returns their paths. */
export async function buildK6Scripts(outdir: string = DEFAULT_OUTDIR): Promise<string[]> {
  await build({
    entryPoints: K6_SCRIPTS.map((name) => resolve(here, `${name}.ts`)),
    outdir,
    bundle: true,
    // k6 runs ES modules in its own runtime (Sobek): no Node built-ins, no CommonJS shims.
    format: "esm",
    platform: "neutral",
    target: "es2020",
    // Provided by k6 itself at run time; everything else (scenarios, report) is inlined.
    external: ["k6", "k6/*"],
    logLevel: "warning",
    legalComments: "none",
    // Readable bundles: a perf engineer reads the stack traces k6 prints against these files.
    minify: false,
    sourcemap: false,
  });
  return K6_SCRIPTS.map((name) => resolve(outdir, `${name}.js`));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outdir = process.argv[2] ? resolve(process.argv[2]) : DEFAULT_OUTDIR;
  const files = await buildK6Scripts(outdir);
  for (const file of files) console.log(`built ${file}`);
}
