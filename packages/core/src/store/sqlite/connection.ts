/**
 * A better-sqlite3 `Database` connection (any copy of better-sqlite3 12), typed by what meterkit needs of it so that
 * meterkit's public types do not require better-sqlite3's types.
 */
export interface SqliteConnection {
  /** The database file the connection opened. */
  readonly name: string;
  prepare(source: string): unknown;
  close(): unknown;
}
