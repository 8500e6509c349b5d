// A private MariaDB on a spare loopback port with its own data directory, so a fault test can kill,
// freeze (SIGSTOP) and restart it without touching the machine's shared server.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import mysql from "mysql2/promise";
import { freePort, waitFor } from "./redis-server.js";

const run = promisify(execFile);

export async function startMariaDb() {
  const dir = await mkdtemp(join(tmpdir(), "kogi-mariadb-"));
  const port = await freePort();
  await run("mariadb-install-db", [
    "--no-defaults",
    `--datadir=${join(dir, "data")}`,
    "--auth-root-authentication-method=normal",
    "--user=root",
    "--skip-test-db",
  ]);
  let child: ChildProcess | undefined;
  const answers = async () => {
    const conn = await mysql
      .createConnection({ host: "127.0.0.1", port, user: "root", connectTimeout: 500 })
      .catch(() => undefined);
    if (!conn) return false;
    await conn.end().catch(() => undefined);
    return true;
  };
  const server = {
    port,
    url: (database: string) => `mysql://root@127.0.0.1:${port}/${database}`,
    async start() {
      child = spawn(
        "mariadbd",
        [
          "--no-defaults",
          `--datadir=${join(dir, "data")}`,
          `--port=${port}`,
          "--bind-address=127.0.0.1",
          `--socket=${join(dir, "mysqld.sock")}`,
          "--user=root",
          "--skip-log-bin",
          "--innodb-buffer-pool-size=32M",
        ],
        { stdio: "ignore" },
      );
      await waitFor(answers, `private MariaDB on ${port}`, 30_000);
    },
    async kill() {
      const running = child;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise((resolve) => running.once("exit", resolve));
      running.kill("SIGCONT");
      running.kill("SIGKILL");
      await exited;
    },
    freeze: () => child?.kill("SIGSTOP"),
    thaw: () => child?.kill("SIGCONT"),
    async close() {
      await server.kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}
