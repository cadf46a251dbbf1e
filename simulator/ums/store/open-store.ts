import { SqliteDriver } from "./sqlite-driver";
import { PostgresDriver } from "./postgres-driver";
import { SqlUmsStore } from "./sql-store";

/**
 * The UMS store named by `--db`: a `postgres://` or `postgresql://` URL is a cluster's shared
 * PostgreSQL database; anything else is a SQLite file (":memory:" for state that ends with the process).
 */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

export async function openUmsStore(location: string, onLost?: (error: Error) => void): Promise<SqlUmsStore> {
  const driver = isPostgresUrl(location) ? await PostgresDriver.connect(location, onLost) : SqliteDriver.open(location);
  return SqlUmsStore.open(driver);
}

export { SqlUmsStore } from "./sql-store";
