// Whether the live index fits the catalog and the configured embedder, and the one routine that builds a
// new version when it does not: under the build lock, re-checked once the lock is held (another builder
// may just have done the work). `index:build`, `npm start` and the sidecar's follower all go through it.
import type { Connection } from "mysql2/promise";
import { type BuildOptions, buildIndex } from "./build-index.js";
import { acquireBuildLock } from "./build-lock.js";
import { type Manifest, readCurrentVersion, readManifest } from "./index-format.js";
import type { ExpectedEmbedder } from "./index-store.js";

export interface Freshness {
  current: boolean;
  /** Why not, in a sentence an operator can act on. */
  reason?: string;
}

const describe = (e: { provider: string; model: string; dims: number }) =>
  `${e.provider}/${e.model} (${e.dims} dims)`;

export function indexFreshness(
  manifest: Manifest | undefined,
  expected: ExpectedEmbedder,
  catalogVersion: number,
): Freshness {
  if (!manifest) return { current: false, reason: "no index has been built yet" };
  if (
    manifest.provider !== expected.provider ||
    manifest.model !== expected.model ||
    manifest.dims !== expected.dims
  )
    return {
      current: false,
      reason: `the index was built with ${describe(manifest)}, the configured embedder is ${describe(expected)}`,
    };
  if (manifest.catalogVersion !== catalogVersion)
    return {
      current: false,
      reason: `the index is for catalog v${manifest.catalogVersion}, the catalog is v${catalogVersion}`,
    };
  return { current: true };
}

/** The manifest CURRENT points at, or undefined when there is none (or it cannot be read). */
export async function currentManifest(dir: string): Promise<Manifest | undefined> {
  const version = await readCurrentVersion(dir);
  if (!version) return undefined;
  return readManifest(`${dir}/${version}`).catch(() => undefined);
}

/** The catalog's version and size, from the tables the api's migrations create. */
export async function readCatalogState(
  db: Pick<Connection, "query">,
): Promise<{ version: number; courses: number }> {
  const [[row]] = (await db.query(
    "SELECT (SELECT version FROM catalog_meta WHERE id = 1) AS version, (SELECT COUNT(*) FROM courses) AS courses",
  )) as unknown as [[{ version: number | null; courses: number }]];
  return { version: Number(row?.version ?? 0), courses: Number(row?.courses ?? 0) };
}

export type BuildOutcome =
  | { outcome: "built"; manifest: Manifest; reason: string }
  | { outcome: "current"; manifest: Manifest }
  /** Another builder holds the lock. */
  | { outcome: "busy" }
  /** Nothing to index yet. */
  | { outcome: "empty" };

export async function buildIfStale(
  options: BuildOptions & { expected: ExpectedEmbedder; force?: boolean; waitSeconds?: number },
): Promise<BuildOutcome> {
  const lock = await acquireBuildLock(options.databaseUrl, options.waitSeconds ?? 0);
  if (!lock) return { outcome: "busy" };
  try {
    const catalog = await readCatalogState(lock.connection);
    if (catalog.courses === 0) return { outcome: "empty" };
    const manifest = await currentManifest(options.dir);
    const freshness = indexFreshness(manifest, options.expected, catalog.version);
    if (freshness.current && manifest && !options.force) return { outcome: "current", manifest };
    const built = await buildIndex(options);
    return { outcome: "built", manifest: built, reason: freshness.reason ?? "asked to rebuild" };
  } finally {
    await lock.release();
  }
}
