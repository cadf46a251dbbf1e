/**
 * The little the UMS store needs of a SQL database, so one set of statements (sql-store.ts) runs
 * on SQLite (one UMS) and on PostgreSQL (a UMS cluster). Statements use PostgreSQL's `$1` parameters;
 * the SQLite driver binds them as `@p1`. Rows come back with lower-case column names.
 */
export type SqlValue = string | number | null;
export type SqlRow = Record<string, unknown>;

export interface SqlDriver {
  /** What the store tells the user about where its data lives (a file, a database URL without password). */
  readonly location: string;
  readonly dialect: "sqlite" | "postgres";
  /** Runs one statement; rows for a SELECT or a `RETURNING` clause, [] otherwise. */
  query(sql: string, params?: readonly SqlValue[]): Promise<SqlRow[]>;
  /** Runs several statements without parameters (the schema). */
  exec(sql: string): Promise<void>;
  /** Tells every server sharing the database that `deviceId` has new commands (PostgreSQL NOTIFY; a no-op alone). */
  notifyCommandsQueued(deviceId: string): Promise<void>;
  /** Calls `listener` when any server sharing the database queued commands for a device. */
  onCommandsQueued(listener: (deviceId: string) => void): void;
  close(): Promise<void>;
}
