import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../../src';
import { describeRaceKit } from '../races/kit';
import { sharedMemoryStore } from '../support/shared-memory-store';

describeRaceKit('MemoryStore', { openShared: async (count) => sharedMemoryStore(count) });

let directory: string | undefined;
describeRaceKit('SqliteStore', {
  // One real database file per run, a connection per instance.
  openShared: async (count) => {
    directory = mkdtempSync(path.join(tmpdir(), 'meterkit-races-'));
    const file = path.join(directory, 'races.db');
    return Array.from({ length: count }, () => new SqliteStore({ path: file }));
  },
  dispose: async () => {
    if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
    directory = undefined;
  },
});
