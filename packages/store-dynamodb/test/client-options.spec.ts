import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ErrorCodes, isMeterkitError } from '@meterkit/core';
import { resolveDynamoDbOptions, type DynamoDbStoreOptions } from '../src/options';

function refusal(options: DynamoDbStoreOptions): unknown {
  try {
    resolveDynamoDbOptions(options);
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('DynamoDbStore options given with your own client', () => {
  const client = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  afterAll(() => client.destroy());

  it('refuses maxAttempts with your own client (it configures only the client the store builds) with ERR_METERKIT_OPTIONS', () => {
    const error = refusal({ client, maxAttempts: 3 });
    expect(isMeterkitError(error, ErrorCodes.OPTIONS)).toBe(true);
    expect((error as Error).message).toMatch(/maxAttempts/);
  });

  it('uses your own client as is when only store settings come with it', () => {
    const resolved = resolveDynamoDbOptions({ client, tableName: 'meterkit-own', conflictRetries: 5 });
    expect(resolved).toMatchObject({ client, ownsClient: false, tableName: 'meterkit-own', conflictRetries: 5 });
  });
});

describe('the DynamoDB client the store builds', () => {
  it('has a logger without info: the SDK then skips the copy of every request and response it makes for its info log', () => {
    const { client } = resolveDynamoDbOptions({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    try {
      const logger = client.config.logger as unknown as Record<string, unknown>;
      expect(logger.info).toBeUndefined();
      for (const level of ['trace', 'debug', 'warn', 'error']) expect(typeof logger[level]).toBe('function');
    } finally {
      client.destroy();
    }
  });
});

describe('callsPerTurn', () => {
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };

  it('defaults to 2 calls started per turn of the event loop', () => {
    const resolved = resolveDynamoDbOptions({ region: 'us-east-1', credentials });
    try {
      expect(resolved.callsPerTurn).toBe(2);
    } finally {
      resolved.client.destroy();
    }
  });

  it.each([0, 257, 1.5, '4'])('refuses callsPerTurn %p with ERR_METERKIT_OPTIONS', (callsPerTurn) => {
    const error = refusal({ region: 'us-east-1', credentials, callsPerTurn: callsPerTurn as number });
    expect(isMeterkitError(error, ErrorCodes.OPTIONS)).toBe(true);
    expect((error as Error).message).toMatch(/callsPerTurn/);
  });
});
