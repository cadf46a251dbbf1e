import * as fs from "node:fs";
import * as path from "node:path";
import Database from "better-sqlite3";
import { UserError } from "../../../core/errors";
import type { SqlDriver, SqlRow, SqlValue } from "./sql-driver";

/**
 * The embedded store of a single UMS: a SQLite file (better-sqlite3, synchronous, so each statement
 * is committed when its promise resolves). WAL journal: a killed process loses no committed write.
 * A file that is not a readable SQLite database is refused, never replaced.
 */

/** SQLite's codes for "this is not (or no longer) a database". */
const UNREADABLE = /^SQLITE_(NOTADB|CORRUPT)/;

export function unreadableDatabase(file: string, detail: string): UserError {
  return new UserError(
    `--db ${file}: not a readable ums-edge SQLite database (${detail}). The UMS does not reset it, so no device or command is silently lost.\n` +
      `  fix: move it aside to start with an empty database (mv '${file}' '${file}.broken'), or pass --db with another file`,
  );
}

export class SqliteDriver implements SqlDriver {
  readonly dialect = "sqlite" as const;
  private readonly listeners: Array<(deviceId: string) => void> = [];
  private readonly prepared = new Map<string, Database.Statement>();

  private constructor(
    private readonly db: Database.Database,
    readonly location: string,
  ) {}

  /** Opens (or creates) `file`; ":memory:" keeps the state in this process only. */
  static open(file: string): SqliteDriver {
    const memory = file === ":memory:";
    if (!memory) {
      const dir = path.dirname(path.resolve(file));
      if (!fs.existsSync(dir)) throw new UserError(`--db ${file}: the directory ${dir} does not exist\n  fix: create it, or pass --db with a file in an existing directory`);
      // Devices, enrollment-key hashes and commands: readable by the owner only.
      if (!fs.existsSync(file)) fs.closeSync(fs.openSync(file, "a", 0o600));
    }
    let db: Database.Database;
    try {
      db = new Database(file);
      db.pragma("busy_timeout = 5000");
      db.pragma("journal_mode = WAL");
      // NORMAL in WAL mode: a killed process loses nothing committed (only a power cut could lose the last transactions).
      db.pragma("synchronous = NORMAL");
      const check = db.pragma("quick_check", { simple: true });
      if (check !== "ok") throw Object.assign(new Error(`quick_check: ${String(check)}`), { code: "SQLITE_CORRUPT" });
    } catch (e) {
      const err = e as { code?: string; message: string };
      if (err.code && UNREADABLE.test(err.code)) throw unreadableDatabase(file, err.message);
      if (err.code === "SQLITE_CANTOPEN" || err.code === "SQLITE_READONLY") throw new UserError(`--db ${file}: cannot open it for writing (${err.message})\n  fix: check the file's permissions, or pass --db with another file`);
      throw e;
    }
    return new SqliteDriver(db, memory ? "memory (this process only)" : path.resolve(file));
  }

  async query(sql: string, params: readonly SqlValue[] = []): Promise<SqlRow[]> {
    // SQLite binds numbered parameters by name only: $1 becomes @p1. Prepared once per statement text.
    let statement = this.prepared.get(sql);
    if (!statement) this.prepared.set(sql, (statement = this.db.prepare(sql.replace(/\$(\d+)/g, "@p$1"))));
    const named = Object.fromEntries(params.map((v, i) => [`p${i + 1}`, v]));
    if (statement.reader) return statement.all(named) as SqlRow[];
    statement.run(named);
    return [];
  }

  async exec(sql: string): Promise<void> {
    this.db.exec(sql);
  }

  async notifyCommandsQueued(deviceId: string): Promise<void> {
    for (const l of this.listeners) l(deviceId);
  }

  onCommandsQueued(listener: (deviceId: string) => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
