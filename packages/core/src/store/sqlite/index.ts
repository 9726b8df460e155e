export { SqliteStore } from './sqlite-store';
export type { SqliteStoreOptions } from './sqlite-store';
export { SCHEMA_VERSION } from './schema';
