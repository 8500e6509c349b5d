// One index builder at a time across sidecars and `index:build` runs: a MySQL/MariaDB named lock
// (GET_LOCK) held on a connection of its own. The server frees it when that connection ends, so a
// builder that crashes or is killed never leaves a stale lock behind (nothing to expire by hand).
import mysql, { type Connection } from "mysql2/promise";

export interface BuildLock {
  /** The connection holding the lock, free for the builder's own queries meanwhile. */
  connection: Connection;
  release(): Promise<void>;
}

/** Named locks are server-wide: the database's name keeps two catalogs on one server apart. */
export function lockName(databaseUrl: string): string {
  const database = decodeURIComponent(new URL(databaseUrl).pathname.slice(1)) || "kogi";
  return `kogi-index-build:${database}`.slice(0, 64);
}

/**
 * Takes the build lock, waiting up to `waitSeconds` (0 = only if free at once); undefined when another
 * builder holds it.
 */
export async function acquireBuildLock(databaseUrl: string, waitSeconds = 0): Promise<BuildLock | undefined> {
  const connection = await mysql.createConnection({ uri: databaseUrl, connectTimeout: 5_000 });
  // A dropped connection has already released the lock; nothing else to do about it here.
  connection.on("error", () => undefined);
  const name = lockName(databaseUrl);
  try {
    const [[row]] = (await connection.query("SELECT GET_LOCK(?, ?) AS got", [
      name,
      waitSeconds,
    ])) as unknown as [[{ got: number | null }]];
    if (Number(row?.got) !== 1) {
      await connection.end();
      return undefined;
    }
  } catch (error) {
    connection.destroy();
    throw error;
  }
  return {
    connection,
    async release() {
      await connection.query("SELECT RELEASE_LOCK(?)", [name]).catch(() => undefined);
      await connection.end().catch(() => connection.destroy());
    },
  };
}
