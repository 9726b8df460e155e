export { SqliteStore } from './sqlite-store';
export type { SqliteStoreOptions } from './sqlite-store';
export type { SqliteConnection } from './connection';
export { SCHEMA_VERSION } from './schema';
