import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { Client } from "pg";
import { UserError } from "../../core/errors";

/**
 * The PostgreSQL database a UMS cluster shares (the HA topologies): Debian's PostgreSQL started
 * by the lab as its own process, data and unix socket under the lab directory, no TCP listener,
 * stopped and removed with the topology. As root it runs as the `postgres` user (or `nobody`):
 * PostgreSQL refuses to run as root.
 */

const run = promisify(execFile);
const PG_ROOT = "/usr/lib/postgresql";
/** Unix socket paths are limited to 107 bytes; PostgreSQL appends `/.s.PGSQL.5432`. */
const MAX_SOCKET_DIR = 90;

/** PostgreSQL cannot be used here: the reason, and what fixes it (HA topologies are skipped with it). */
export class PostgresUnavailable extends UserError {}

export interface StartedPostgres {
  /** `postgresql://ums@/ums?host=<socket dir>`: what the UMS servers get as --db. */
  readonly url: string;
  readonly dataDir: string;
  readonly version: string;
  /** Milliseconds initdb and the start took. */
  readonly startMs: number;
  stop(): Promise<void>;
}

/** The newest installed server's bin directory (/usr/lib/postgresql/<version>/bin), or undefined. */
export function findPostgresBin(root = PG_ROOT): { bin: string; version: string } | undefined {
  if (!fs.existsSync(root)) return undefined;
  const versions = fs
    .readdirSync(root)
    .filter((v) => fs.existsSync(path.join(root, v, "bin", "initdb")) && fs.existsSync(path.join(root, v, "bin", "pg_ctl")))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? { bin: path.join(root, versions[0], "bin"), version: versions[0] } : undefined;
}

/** Who runs the server: ourselves, or (as root) the first of these users that exists. */
async function serverUser(): Promise<{ name: string; uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ["postgres", "nobody"]) {
    try {
      const uid = Number((await run("id", ["-u", name])).stdout.trim());
      const gid = Number((await run("id", ["-g", name])).stdout.trim());
      return { name, uid, gid };
    } catch {
      // not on this machine: the next one
    }
  }
  throw new PostgresUnavailable("PostgreSQL cannot run as root and neither a 'postgres' nor a 'nobody' user exists\n  fix: create one (useradd --system postgres)");
}

/** Starts a private PostgreSQL under `dir` (which must not exist yet or be empty). */
export async function startLabPostgres(dir: string, options: { readonly pgRoot?: string } = {}): Promise<StartedPostgres> {
  const t0 = Date.now();
  const pgRoot = options.pgRoot ?? PG_ROOT;
  const found = findPostgresBin(pgRoot);
  if (!found) {
    throw new PostgresUnavailable(`PostgreSQL is not installed (no ${pgRoot}/<version>/bin/initdb): the HA topologies need it for the database the UMS servers share\n  fix: bash scripts/ensure-system-tools.sh (installs Debian's postgresql)`);
  }
  const user = await serverUser();
  const asUser = (cmd: string, args: string[]) => (user ? run("runuser", ["-u", user.name, "--", cmd, ...args]) : run(cmd, args));
  const dataDir = path.join(dir, "data");
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const short = path.join(dir, "sock").length <= MAX_SOCKET_DIR;
  const socketDir = short ? path.join(dir, "sock") : fs.mkdtempSync(path.join(os.tmpdir(), "ums-pg-"));
  fs.mkdirSync(socketDir, { recursive: true, mode: 0o700 });
  if (user) for (const d of [dir, socketDir]) fs.chownSync(d, user.uid, user.gid);
  const logFile = path.join(dir, "postgres.log");
  const removeAll = () => {
    fs.rmSync(dir, { recursive: true, force: true });
    if (!short) fs.rmSync(socketDir, { recursive: true, force: true });
  };
  const fail = (step: string, e: unknown): never => {
    const err = e as { stderr?: string; message: string };
    const detail = (err.stderr || err.message).trim().split("\n").slice(-3).join(" / ");
    const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8").trim().split("\n").slice(-3).join(" / ") : "";
    throw new PostgresUnavailable(
      `PostgreSQL ${found.version} did not start (${step}${user ? ` as user '${user.name}'` : ""}): ${detail}${log ? ` / log: ${log}` : ""}\n` +
        `  fix: the server user needs to reach ${dir} (every parent directory searchable by it), or choose a lab directory it can reach`,
    );
  };
  try {
    await asUser(path.join(found.bin, "initdb"), ["-D", dataDir, "-A", "trust", "-U", "ums", "-E", "UTF8", "--no-sync", "--no-instructions"]);
  } catch (e) {
    removeAll();
    fail("initdb", e);
  }
  // No TCP listener: the socket only, readable by the server user (and root). fsync off: the lab's
  // database need not survive a power cut, only a UMS server's death.
  const serverOptions = `-c listen_addresses='' -c unix_socket_directories='${socketDir}' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=40 -c shared_buffers=16MB`;
  const pgCtl = path.join(found.bin, "pg_ctl");
  try {
    await asUser(pgCtl, ["-D", dataDir, "-l", logFile, "-w", "-t", "30", "-o", serverOptions, "start"]);
  } catch (e) {
    removeAll();
    fail("pg_ctl start", e);
  }
  const stop = async () => {
    await asUser(pgCtl, ["-D", dataDir, "-m", "immediate", "-w", "-t", "20", "stop"]).catch(() => undefined);
    removeAll();
  };
  try {
    const admin = new Client({ host: socketDir, user: "ums", database: "postgres" });
    await admin.connect();
    await admin.query("CREATE DATABASE ums");
    await admin.end();
  } catch (e) {
    await stop();
    throw new PostgresUnavailable(`PostgreSQL ${found.version} started but its database could not be created: ${(e as Error).message}`);
  }
  return { url: `postgresql://ums@/ums?host=${encodeURIComponent(socketDir)}`, dataDir, version: found.version, startMs: Date.now() - t0, stop };
}
