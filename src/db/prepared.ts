import type { Database } from './client';

/**
 * A query prepared once per database handle and reused, for hot paths (a pipeline
 * polling its change): Drizzle then skips building the SQL on every call, which
 * costs several times the round trip itself.
 */
export function preparedPerDatabase<T>(prepare: (db: Database) => T): (db: Database) => T {
  const statements = new WeakMap<Database, T>();
  return (db) => {
    let statement = statements.get(db);
    if (!statement) {
      statement = prepare(db);
      statements.set(db, statement);
    }
    return statement;
  };
}
