import { Client } from "pg";
import { UserError } from "../../../core/errors";
import type { SqlDriver, SqlRow, SqlValue } from "./sql-driver";

/**
 * The shared store of a UMS cluster: one PostgreSQL database, as an IGEL UMS HA cluster uses one.
 * One connection per server: its statements run in the order the server issues them (a device's ack
 * before its result). Commands queued on one server reach the server holding the device's session
 * through LISTEN/NOTIFY on the channel below.
 */

const CHANNEL = "ums_commands_queued";
/** Any constant: the servers of a cluster create the schema one at a time under this advisory lock. */
const SCHEMA_LOCK = 7_316_002;

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(an unparsable PostgreSQL URL)";
  }
}

export class PostgresDriver implements SqlDriver {
  readonly dialect = "postgres" as const;
  private readonly listeners: Array<(deviceId: string) => void> = [];
  private closed = false;
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly client: Client,
    readonly location: string,
  ) {
    client.on("notification", (n) => {
      if (n.channel === CHANNEL && n.payload) for (const l of this.listeners) l(n.payload);
    });
  }

  /** Connects to `url` (postgresql://user@/db?host=/socket/dir for a unix socket) and listens for queued commands. */
  static async connect(url: string, onLost?: (error: Error) => void): Promise<PostgresDriver> {
    const location = redactUrl(url);
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (e) {
      await client.end().catch(() => undefined);
      throw new UserError(`--db ${location}: cannot connect to PostgreSQL (${(e as Error).message})\n  fix: start the database (the lab starts its own for the HA topologies), or correct the URL`);
    }
    const driver = new PostgresDriver(client, location);
    client.on("error", (e) => {
      if (!driver.closed) onLost?.(e);
    });
    return driver;
  }

  /** One statement at a time on the connection, in the order asked (pg deprecates overlapping queries). */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.tail.then(work, work);
    this.tail = next.catch(() => undefined);
    return next;
  }

  query(sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
    return this.serial(async () => (await this.client.query(sql, params as SqlValue[])).rows as SqlRow[]);
  }

  exec(sql: string): Promise<void> {
    return this.serial(async () => {
      await this.client.query(`SELECT pg_advisory_lock(${SCHEMA_LOCK})`);
      try {
        await this.client.query(sql);
      } finally {
        await this.client.query(`SELECT pg_advisory_unlock(${SCHEMA_LOCK})`);
      }
    });
  }

  async notifyCommandsQueued(deviceId: string): Promise<void> {
    await this.query("SELECT pg_notify($1, $2)", [CHANNEL, deviceId]);
  }

  onCommandsQueued(listener: (deviceId: string) => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.end().catch(() => undefined);
  }
}
