// Fails when a tree meant for production (the Docker image's /out) holds a package that
// package-lock.json marks `dev` (reachable only through devDependencies: tsx, esbuild, TypeScript,
// Vitest, Biome, their dependencies, ...). The lockfile decides, so a new devDependency is covered
// without editing a list.  Usage: node scripts/check-no-dev-deps.mjs <dir> [package-lock.json]
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

const [dir, lockPath = "package-lock.json"] = process.argv.slice(2);
if (!dir) {
  console.error("usage: node scripts/check-no-dev-deps.mjs <dir> [package-lock.json]");
  process.exit(2);
}
const { packages } = JSON.parse(readFileSync(lockPath, "utf8"));
const left = Object.entries(packages)
  .filter(([path, entry]) => path && entry.dev === true && existsSync(join(dir, path)))
  .map(([path]) => path);
const compilers = ["typescript", "esbuild", "tsx"].filter((name) => !packages[`node_modules/${name}`]?.dev);
if (compilers.length > 0) {
  // A compiler that the lockfile needs in production would ship in the image; say so rather than pass.
  console.error(`package-lock.json needs ${compilers.join(", ")} outside devDependencies`);
  process.exit(1);
}
if (left.length > 0) {
  console.error(
    `devDependencies left in ${dir}: ${left.slice(0, 20).join(", ")}${left.length > 20 ? ", ..." : ""}`,
  );
  process.exit(1);
}
console.log(`${dir}: no devDependencies (${Object.values(packages).filter((e) => e.dev).length} checked)`);
