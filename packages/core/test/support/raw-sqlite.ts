import Database from 'better-sqlite3';

/** Runs `use` on a connection of its own to the SQLite file, beside the store's (to read or age rows the store hides), and closes it. */
export function withRawSqlite<T>(file: string, use: (db: Database.Database) => T): T {
  const db = new Database(file);
  try {
    return use(db);
  } finally {
    db.close();
  }
}
