// A private nginx master running the repo's nginx/nginx.conf on a spare loopback port, in front of local
// api processes. Only the listen address, the upstream servers and the temp paths differ from what compose
// mounts, and each of those substitutions must match exactly once, so an edit to the file breaks loudly here.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { closeSync, openSync, readFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, waitUntil } from "./wait.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
export const NGINX_CONF = join(root, "nginx/nginx.conf");
export const UPSTREAMS_CONF = join(root, "nginx/upstreams.conf");

/** One line of nginx's JSON access log (log_format json in nginx.conf). */
export interface AccessLine {
  request_id: string;
  remote_addr: string;
  method: string;
  uri: string;
  status: number;
  upstream_addr: string;
  upstream_status: string;
  request_time: number;
}

export interface NginxProcess {
  readonly url: string;
  readonly pid: number;
  readonly prefix: string;
  accessLog(): AccessLine[];
  errorLog(): string;
  /** SIGTERM by PID, then removes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

export interface NginxOptions {
  /** host:port of every api replica, in the order nginx should know them. */
  upstreams: string[];
  /** Extra exact substitutions on nginx.conf (the benchmark lifts the per-address rate). */
  substitutions?: [string, string][];
}

/** NGINX_BIN, then `nginx` on PATH, then Debian's /usr/sbin/nginx; scripts/bootstrap.sh installs it. */
export function findNginx(): string {
  const candidates = [process.env.NGINX_BIN, "nginx", "/usr/sbin/nginx"].filter(Boolean) as string[];
  for (const candidate of candidates)
    if (spawnSync(candidate, ["-v"], { stdio: "ignore" }).status === 0) return candidate;
  throw new Error(
    "nginx not found (NGINX_BIN, PATH, /usr/sbin/nginx): run scripts/bootstrap.sh, or apt-get install nginx",
  );
}

function replaceOnce(text: string, from: string | RegExp, to: string, what: string): string {
  const pattern = typeof from === "string" ? from.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") : from.source;
  const matches = text.match(new RegExp(pattern, "gm"))?.length ?? 0;
  if (matches !== 1) throw new Error(`nginx.conf: expected one ${what} (${from}), found ${matches}`);
  return text.replace(from, to);
}

/** The repo's config with the test's listen address and temp paths (Debian's defaults are system folders). */
export function renderConfig(conf: string, port: number, prefix: string, extra: [string, string][] = []) {
  let text = replaceOnce(
    conf,
    "listen 80 default_server;",
    `listen 127.0.0.1:${port} default_server;`,
    "listen",
  );
  const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
    .map((kind) => `    ${kind}_temp_path ${join(prefix, "temp", kind)};`)
    .join("\n");
  text = replaceOnce(text, /^http \{$/m, `http {\n${temp}`, "http block");
  for (const [from, to] of extra) text = replaceOnce(text, from, to, "substitution");
  return text;
}

/** upstreams.conf with compose's one server line repeated for each local replica, same parameters. */
export function renderUpstreams(upstreams: string, servers: string[]): string {
  const lines = upstreams.split("\n").filter((line) => /^\s*server\s/.test(line));
  const parsed = lines[0]?.match(/^\s*server\s+(\S+)((?:\s+[^;]+)?);\s*$/);
  if (lines.length !== 1 || !parsed) throw new Error("upstreams.conf: expected exactly one `server` line");
  const params = parsed[2] ?? "";
  return `${servers.map((server) => `server ${server}${params};`).join("\n")}\n`;
}

export async function startNginx(options: NginxOptions): Promise<NginxProcess> {
  const bin = findNginx();
  const prefix = await mkdtemp(join(tmpdir(), "kogi-nginx-"));
  // Workers run as an unprivileged user when the master is root: they must reach the temp folders.
  await chmod(prefix, 0o755);
  await mkdir(join(prefix, "temp"));
  const port = await freePort();
  const conf = renderConfig(await readFile(NGINX_CONF, "utf8"), port, prefix, options.substitutions);
  await writeFile(join(prefix, "nginx.conf"), conf);
  await writeFile(
    join(prefix, "upstreams.conf"),
    renderUpstreams(await readFile(UPSTREAMS_CONF, "utf8"), options.upstreams),
  );

  // access_log /dev/stdout reopens fd 1, which must be a file or a FIFO (as in a container), not a socket.
  const accessFile = join(prefix, "access.log");
  const stdout = openSync(accessFile, "a");
  const child: ChildProcess = spawn(
    bin,
    ["-p", prefix, "-c", join(prefix, "nginx.conf"), "-g", `daemon off; pid ${join(prefix, "nginx.pid")};`],
    { stdio: ["ignore", stdout, "pipe"] },
  );
  closeSync(stdout);
  let stderr = "";
  const accessLines: AccessLine[] = [];
  let accessRead = 0;
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = once(child, "exit");
  const url = `http://127.0.0.1:${port}`;
  let stopped = false;
  const nginx: NginxProcess = {
    url,
    pid: child.pid ?? 0,
    prefix,
    accessLog: () => {
      // Incremental, and only whole lines: nginx may be writing the last one right now.
      const fresh = readFileSync(accessFile).subarray(accessRead);
      const end = fresh.lastIndexOf(0x0a) + 1;
      accessRead += end;
      for (const line of fresh.subarray(0, end).toString("utf8").split("\n"))
        if (line.startsWith("{")) accessLines.push(JSON.parse(line) as AccessLine);
      return accessLines;
    },
    errorLog: () => stderr,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
      await rm(prefix, { recursive: true, force: true });
    },
  };
  try {
    await waitUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}:\n${stderr}`);
        const health = await fetch(`${url}/nginx-health`).catch(() => undefined);
        return health?.status === 200;
      },
      "nginx to listen",
      15_000,
    );
  } catch (error) {
    await nginx.stop();
    throw error;
  }
  return nginx;
}
