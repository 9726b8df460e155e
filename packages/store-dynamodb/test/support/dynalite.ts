import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbStore } from '../../src';
import type { DynamoDbStoreOptions } from '../../src';

// dynalite ships no types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as (options: { createTableMs: number; deleteTableMs?: number; updateTableMs?: number }) => Server;

/** An in-memory DynamoDB (dynalite) on 127.0.0.1, port 0. */
export class LocalDynamo {
  endpoint = '';
  private server: Server | undefined;
  private tables = 0;

  async start(): Promise<void> {
    this.server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  }

  /** A name no earlier table of this server has. */
  freshTableName(prefix = 'meterkit'): string {
    this.tables += 1;
    return `${prefix}-${this.tables}`;
  }

  client(): DynamoDBClient {
    return new DynamoDBClient({
      region: 'us-east-1',
      endpoint: this.endpoint,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
  }

  /** A store with its own client on `tableName`, the table created. */
  async store(tableName: string, options: DynamoDbStoreOptions = {}): Promise<DynamoDbStore> {
    const store = new DynamoDbStore({
      tableName,
      region: 'us-east-1',
      endpoint: this.endpoint,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      ...options,
    });
    await store.createTable();
    return store;
  }
}
