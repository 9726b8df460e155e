export { PostgresStore } from './postgres-store';
export type { PostgresStoreOptions } from './options';
export { SCHEMA_VERSION } from './schema';
