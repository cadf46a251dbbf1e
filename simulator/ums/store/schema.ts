import { UserError } from "../../../core/errors";
import type { SqlDriver } from "./sql-driver";

/**
 * The UMS store's tables, in SQL both SQLite and PostgreSQL accept. `ums_meta.schema_version` says
 * which layout a database has: an older one is upgraded, a newer one (written by a later ums-edge) is
 * refused, never rewritten. Times are epoch milliseconds, flags 0/1, settings JSON text.
 */
export const SCHEMA_VERSION = 1;

const TABLES = `
CREATE TABLE IF NOT EXISTS ums_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ums_counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS devices (
  id TEXT PRIMARY KEY,
  unit_id TEXT NOT NULL UNIQUE,
  mac TEXT NOT NULL,
  firmware TEXT NOT NULL,
  name TEXT NOT NULL,
  enrolled_by TEXT NOT NULL,
  enrolled_at BIGINT NOT NULL,
  certificate_serial TEXT,
  replaced_serial TEXT,
  reenrollment_allowed INTEGER NOT NULL DEFAULT 0,
  online INTEGER NOT NULL DEFAULT 0,
  last_contact BIGINT,
  settings TEXT NOT NULL DEFAULT '{}',
  connections INTEGER NOT NULL DEFAULT 0,
  server TEXT
);
CREATE TABLE IF NOT EXISTS enrollment_keys (key_hash TEXT PRIMARY KEY, spent INTEGER NOT NULL DEFAULT 0, spent_at BIGINT);
CREATE TABLE IF NOT EXISTS commands (
  exec_id TEXT PRIMARY KEY,
  seq BIGINT NOT NULL,
  device_id TEXT NOT NULL,
  mac TEXT NOT NULL,
  command TEXT NOT NULL,
  settings TEXT,
  state TEXT NOT NULL,
  message TEXT NOT NULL,
  deliveries INTEGER NOT NULL DEFAULT 0,
  queued_at BIGINT NOT NULL,
  delivered_at BIGINT,
  acknowledged_at BIGINT,
  finished_at BIGINT,
  delivered_by TEXT
);
CREATE INDEX IF NOT EXISTS commands_by_device ON commands (device_id, seq);
CREATE TABLE IF NOT EXISTS revoked_certificates (serial TEXT PRIMARY KEY, reason TEXT NOT NULL);
INSERT INTO ums_counters (name, value) VALUES ('device', 1000) ON CONFLICT (name) DO NOTHING;
INSERT INTO ums_counters (name, value) VALUES ('command', 0) ON CONFLICT (name) DO NOTHING;
`;

/** The tables of a database, to tell an empty one from someone else's. */
async function tableNames(db: SqlDriver): Promise<string[]> {
  const rows =
    db.dialect === "sqlite"
      ? await db.query("SELECT name FROM sqlite_master WHERE type = 'table'")
      : await db.query("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()");
  return rows.map((r) => String(r.name));
}

/** Creates the tables in an empty database; refuses a database from a newer ums-edge or of another program. */
export async function ensureSchema(db: SqlDriver): Promise<void> {
  const tables = await tableNames(db);
  const moveAside =
    db.dialect === "sqlite"
      ? `move it aside (mv '${db.location}' '${db.location}.newer') to start with an empty database, or pass --db with another file`
      : "point --db at another database, or drop this one's tables if its data is no longer needed";
  if (tables.length > 0 && !tables.includes("ums_meta")) {
    throw new UserError(`--db ${db.location}: holds tables (${tables.slice(0, 5).join(", ")}) but is not a ums-edge UMS database; it is left as it is\n  fix: ${moveAside}`);
  }
  if (tables.includes("ums_meta")) {
    const [row] = await db.query("SELECT value FROM ums_meta WHERE key = 'schema_version'");
    const version = Number(row?.value);
    if (!Number.isInteger(version)) throw new UserError(`--db ${db.location}: its ums_meta has no valid schema_version (${String(row?.value)}); it is left as it is\n  fix: ${moveAside}`);
    if (version > SCHEMA_VERSION) {
      throw new UserError(
        `--db ${db.location}: written by a newer ums-edge (schema version ${version}; this one reads up to ${SCHEMA_VERSION}); it is left as it is, so the newer version's data stays intact\n` +
          `  fix: run the ums-edge version that wrote it, or ${moveAside}`,
      );
    }
  }
  await db.exec(TABLES);
  await db.query("INSERT INTO ums_meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO NOTHING", [String(SCHEMA_VERSION)]);
}
