import { createMetering, type Metering } from '@meterkit/core';
import serverless from 'serverless-http';
import { buildApi } from './app';
import { meteringOptions } from './config';

export { handler as flush } from './flush';

/** API keys from the environment: `API_KEYS=key1:tenant-1,key2:tenant-2`. */
function apiKeysFromEnv(): Map<string, string> {
  const pairs = (process.env.API_KEYS ?? '').split(',').filter((pair) => pair.includes(':'));
  return new Map(pairs.map((pair) => pair.split(':', 2) as [string, string]));
}

let metering: Metering | undefined;

/** One Metering per execution environment, created by the first invocation and reused while the function is warm. */
export function sharedMetering(): Metering {
  metering ??= createMetering(meteringOptions());
  return metering;
}

/** The API behind API Gateway (HTTP API, payload v2). */
export const api = serverless(buildApi({ metering: sharedMetering(), apiKeys: apiKeysFromEnv() }));
