import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeLifecycleRace } from '../../../tools/testing/lifecycle-race/lifecycle-race';
import { MemoryStore } from '../src/store/memory-store';
import { SqliteStore } from '../src/store/sqlite';

const directories: string[] = [];
afterAll(() => {
  for (const directory of directories) fs.rmSync(directory, { recursive: true, force: true });
});

function sqliteFile(): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'meterkit-race-'));
  directories.push(directory);
  return path.join(directory, 'meterkit.db');
}

describeLifecycleRace('MemoryStore', { instances: 1, handles: async () => [new MemoryStore()] });

describeLifecycleRace('MemoryStore', {
  handles: async (count) => {
    const store = new MemoryStore();
    return Array.from({ length: count }, () => store);
  },
});

describeLifecycleRace('SqliteStore file', {
  handles: async (count) => {
    const file = sqliteFile();
    return Array.from({ length: count }, () => new SqliteStore({ path: file }));
  },
});
