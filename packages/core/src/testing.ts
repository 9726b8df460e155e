export { describeUsageStoreConformance } from './store/conformance';
export type { ConformanceOptions, StoreFactory } from './store/conformance';
export { MemoryStore } from './store/memory-store';
