// package-lock.json installs with `npm ci` on any machine: it is in sync with every workspace's
// package.json, and it lists every optional platform binary its packages declare. npm 11 sometimes
// leaves other platforms' binaries out (npm/cli#8320); `npm ci` then refuses the lockfile on a fresh
// clone, and the old `npm install` fallback rewrote it, leaving the clone dirty.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../", import.meta.url));
const readJson = <T>(path: string) => JSON.parse(readFileSync(join(root, path), "utf8")) as T;

interface Manifest {
  name?: string;
  version?: string;
  workspaces?: string[];
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}
interface LockEntry extends Manifest {
  link?: boolean;
  resolved?: string;
  integrity?: string;
}
const lock = readJson<{ lockfileVersion: number; packages: Record<string, LockEntry> }>("package-lock.json");
const rootManifest = readJson<Manifest>("package.json");

/** Where Node would find `name` from the package at `from` (its own node_modules, then each parent's). */
function resolveFrom(from: string, name: string): LockEntry | undefined {
  let dir = from;
  for (;;) {
    const entry = lock.packages[`${dir ? `${dir}/` : ""}node_modules/${name}`];
    if (entry) return entry;
    if (!dir) return undefined;
    const cut = dir.lastIndexOf("/node_modules/");
    // A workspace folder ("api") resolves from the root next; a nested package from its parent.
    dir = cut === -1 ? "" : dir.slice(0, cut);
  }
}

describe("package-lock.json", () => {
  it("is a v3 lockfile with an entry for the root and every workspace", () => {
    expect(lock.lockfileVersion).toBe(3);
    for (const workspace of ["", ...(rootManifest.workspaces ?? [])])
      expect(lock.packages[workspace], workspace || "root").toBeDefined();
  });

  it("matches every workspace's package.json (what npm ci checks first)", () => {
    for (const workspace of ["", ...(rootManifest.workspaces ?? [])]) {
      const manifest = readJson<Manifest>(join(workspace, "package.json"));
      const entry = lock.packages[workspace] as LockEntry;
      for (const field of ["dependencies", "devDependencies", "optionalDependencies"] as const)
        expect(entry[field] ?? {}, `${workspace || "root"} ${field}`).toEqual(manifest[field] ?? {});
    }
  });

  it("lists every optional dependency its packages declare, for every platform (npm/cli#8320)", () => {
    const missing: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (!path.includes("node_modules/")) continue;
      for (const name of Object.keys(entry.optionalDependencies ?? {}))
        if (!resolveFrom(path, name)) missing.push(`${path} -> ${name}`);
    }
    expect(missing).toEqual([]);
  });

  it("pins every installed package to a registry version with an integrity hash (no git, no file)", () => {
    const loose = Object.entries(lock.packages)
      .filter(([path, entry]) => path.includes("node_modules/") && !entry.link)
      .filter(
        ([, entry]) =>
          !entry.version ||
          !entry.integrity?.startsWith("sha512-") ||
          // Left out by omit-lockfile-registry-resolved (the configured registry), or the public one.
          (entry.resolved !== undefined && !entry.resolved.startsWith("https://registry.npmjs.org/")),
      )
      .map(([path]) => path);
    expect(loose).toEqual([]);
  });
});
