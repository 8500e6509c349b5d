// Where the k6 binary is (Node side, for the tests that run the scripts under real k6): K6_BIN, then PATH,
// then ../shared/bin/k6 beside the repo (every development machine and CI have k6 v1.3.0 there).
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export type K6Lookup =
  | { found: true; path: string; via: "K6_BIN" | "PATH" | "../shared/bin/k6" }
  | { found: false; message: string };

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Looks in the documented order; a K6_BIN that is set but unusable is an error, not a reason to look on. */
export function findK6(env: NodeJS.ProcessEnv = process.env, repoRoot: string = REPO_ROOT): K6Lookup {
  const explicit = env.K6_BIN?.trim();
  if (explicit) {
    const path = resolve(explicit);
    return executable(path)
      ? { found: true, path, via: "K6_BIN" }
      : { found: false, message: `K6_BIN=${explicit} is not an executable file` };
  }
  const dirs = (env.PATH ?? "").split(delimiter).filter(Boolean);
  for (const dir of dirs) {
    const path = join(dir, "k6");
    if (executable(path)) return { found: true, path: resolve(path), via: "PATH" };
  }
  const shared = resolve(repoRoot, "../shared/bin/k6");
  if (executable(shared)) return { found: true, path: shared, via: "../shared/bin/k6" };
  return {
    found: false,
    message:
      `k6 not found: K6_BIN is unset, no k6 on PATH (${dirs.length} directories), and no ${shared}. ` +
      "Put k6 v1.3.0 at ../shared/bin/k6 beside the repo, or set K6_BIN.",
  };
}
