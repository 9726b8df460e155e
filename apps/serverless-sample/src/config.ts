import type { MeteringOptions } from '@meterkit/core';
import { DynamoDbStore } from '@meterkit/store-dynamodb';

export const PRODUCT_CODE = process.env.PRODUCT_CODE ?? 'prod-sample';
export const DIMENSIONS = ['api_calls', 'rows_exported'];

/**
 * The Metering options every Lambda function of the sample shares: the DynamoDB store, no timers (a frozen
 * function runs none), and synchronous durability (commit() resolves after the store write).
 * Environment: METERKIT_TABLE (default 'meterkit'), AWS_REGION, and for local runs DYNAMODB_ENDPOINT and
 * METERING_ENDPOINT (the emulator).
 */
export function meteringOptions(overrides: Partial<MeteringOptions> = {}): MeteringOptions {
  const env = process.env;
  const local = { accessKeyId: 'local', secretAccessKey: 'local' };
  return {
    products: [{ productCode: PRODUCT_CODE, dimensions: DIMENSIONS }],
    store: new DynamoDbStore({
      tableName: env.METERKIT_TABLE ?? 'meterkit',
      ...(env.DYNAMODB_ENDPOINT === undefined ? {} : { endpoint: env.DYNAMODB_ENDPOINT, region: env.AWS_REGION ?? 'us-east-1', credentials: local }),
    }),
    ...(env.METERING_ENDPOINT === undefined ? {} : { aws: { endpoint: env.METERING_ENDPOINT, region: env.AWS_REGION ?? 'us-east-1', credentials: local } }),
    durability: 'sync',
    autoStart: false,
    ...overrides,
  };
}
