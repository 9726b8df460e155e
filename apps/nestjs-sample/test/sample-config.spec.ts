import { isMeterkitError } from '@meterkit/core';
import { commitPolicy, configFromEnv } from '../src/config/sample-config';

/** The error configFromEnv throws for `env`: a MeterkitError ERR_METERKIT_OPTIONS naming the variable. */
function refusal(env: NodeJS.ProcessEnv): { message: string; variable: unknown } {
  try {
    configFromEnv(env);
  } catch (error) {
    if (!isMeterkitError(error, 'ERR_METERKIT_OPTIONS')) throw error;
    return { message: error.message, variable: error.details?.variable };
  }
  throw new Error(`accepted: ${JSON.stringify(env)}`);
}

describe('nestjs-sample: configuration from the environment', () => {
  it('meters to a local emulator by default, as the app always did', () => {
    expect(configFromEnv({})).toEqual({
      port: 3000,
      host: '127.0.0.1',
      platform: 'express',
      productCode: 'prod-nestjs-sample',
      dimensions: ['api_calls', 'gb_processed'],
      identity: 'license',
      store: 'memory',
      appDb: './app.db',
      durability: 'interval',
      lockMinutes: 10,
      commitOn: 'served',
      commitAborted: false,
      mode: 'live',
      target: 'emulator',
      emulatorPort: 0,
      emulatorSpeed: 1,
      clockOffsetMinutes: 0,
    });
    expect(configFromEnv({ METERKIT_DURABILITY: '', METERKIT_LOCK_MINUTES: '' })).toEqual(configFromEnv({}));
    expect(configFromEnv({ METERKIT_TARGET: 'aws', METERKIT_PRODUCT_CODE: 'prod-real' }).store).toBe('sqlite:./meterkit.db');
  });

  it('reads every operator setting', () => {
    expect(
      configFromEnv({
        PORT: '8080',
        HOST: '0.0.0.0',
        NEST_PLATFORM: 'fastify',
        METERKIT_PRODUCT_CODE: 'prod-abc123',
        METERKIT_DIMENSIONS: 'api_calls, gb_processed,seats',
        METERKIT_IDENTITY: 'legacy',
        METERKIT_STORE: 'sqlite:/var/lib/app/meterkit.db',
        METERKIT_APP_DB: '/var/lib/app/app.db',
        METERKIT_DURABILITY: 'sync',
        METERKIT_LOCK_MINUTES: '45',
        METERKIT_COMMIT_ON: '2xx',
        METERKIT_COMMIT_ABORTED: 'true',
        METERKIT_MODE: 'dry-run',
        METERKIT_FLUSH_INTERVAL_MS: '15000',
        METERKIT_EMULATOR_PORT: '4700',
        METERKIT_EMULATOR_SPEED: '120',
        METERKIT_CLOCK_OFFSET_MINUTES: '-1440',
        METERKIT_EVENTS_SECRET: 'a-secret-of-16-chars',
      }),
    ).toEqual({
      port: 8080,
      host: '0.0.0.0',
      platform: 'fastify',
      productCode: 'prod-abc123',
      dimensions: ['api_calls', 'gb_processed', 'seats'],
      identity: 'legacy',
      store: 'sqlite:/var/lib/app/meterkit.db',
      appDb: '/var/lib/app/app.db',
      durability: 'sync',
      lockMinutes: 45,
      commitOn: '2xx',
      commitAborted: true,
      mode: 'dry-run',
      target: 'emulator',
      flushIntervalMs: 15000,
      emulatorPort: 4700,
      emulatorSpeed: 120,
      clockOffsetMinutes: -1440,
      eventsSecret: 'a-secret-of-16-chars',
    });
    expect(configFromEnv({ METERKIT_STORE: 'memory' }).store).toBe('memory');
    expect(configFromEnv({ METERKIT_LOCK_MINUTES: '0' }).lockMinutes).toBe(0);
    expect(configFromEnv({ METERKIT_COMMIT_ON: 'below-500' }).commitOn).toBe('below-500');
  });

  it('keeps the earlier name EMULATOR_PORT working; METERKIT_EMULATOR_PORT wins', () => {
    expect(configFromEnv({ EMULATOR_PORT: '4599' }).emulatorPort).toBe(4599);
    expect(configFromEnv({ EMULATOR_PORT: '4599', METERKIT_EMULATOR_PORT: '4600' }).emulatorPort).toBe(4600);
    expect(refusal({ EMULATOR_PORT: 'any' })).toEqual({ message: 'EMULATOR_PORT must be a whole number from 0 to 65535, got "any".', variable: 'EMULATOR_PORT' });
  });

  it('meters to AWS with METERKIT_TARGET=aws, or when an AWS region or endpoint is set, and needs the product code then', () => {
    expect(configFromEnv({ METERKIT_TARGET: 'aws', METERKIT_PRODUCT_CODE: 'prod-real' })).toMatchObject({ target: 'aws', productCode: 'prod-real' });
    expect(configFromEnv({ METERKIT_TARGET: 'aws', METERKIT_PRODUCT_CODE: 'prod-real' }).awsRegion).toBeUndefined();
    expect(configFromEnv({ METERKIT_AWS_REGION: 'eu-west-1', METERKIT_PRODUCT_CODE: 'prod-real' })).toMatchObject({ target: 'aws', awsRegion: 'eu-west-1' });
    expect(configFromEnv({ METERKIT_AWS_ENDPOINT: 'https://vpce.example.com', METERKIT_PRODUCT_CODE: 'prod-real' })).toMatchObject({
      target: 'aws',
      awsEndpoint: 'https://vpce.example.com',
    });
    expect(refusal({ METERKIT_TARGET: 'aws' })).toEqual({ message: "METERKIT_PRODUCT_CODE is required with METERKIT_TARGET=aws: your listing's product code.", variable: 'METERKIT_PRODUCT_CODE' });
  });

  it('refuses each bad value with a message naming the variable and what it accepts', () => {
    const refused: Array<[NodeJS.ProcessEnv, string]> = [
      [{ PORT: 'http' }, 'PORT must be a whole number from 0 to 65535, got "http".'],
      [{ NEST_PLATFORM: 'koa' }, 'NEST_PLATFORM must be one of express, fastify, got "koa".'],
      [{ METERKIT_PRODUCT_CODE: 'prod code' }, 'METERKIT_PRODUCT_CODE must be a product code (1 to 255 of letters, digits and - / = : _ . @), got "prod code".'],
      [{ METERKIT_DIMENSIONS: 'api_calls' }, 'METERKIT_DIMENSIONS must be a comma-separated list of dimension API names (1 to 255 characters each, no repeats) including api_calls and gb_processed, got "api_calls".'],
      [{ METERKIT_DIMENSIONS: 'api_calls,,gb_processed' }, 'METERKIT_DIMENSIONS must be a comma-separated list'],
      [{ METERKIT_DIMENSIONS: 'api_calls,gb_processed,api_calls' }, 'METERKIT_DIMENSIONS must be a comma-separated list'],
      [{ METERKIT_IDENTITY: 'product' }, 'METERKIT_IDENTITY must be one of license, legacy, got "product".'],
      [{ METERKIT_STORE: 'postgres://db' }, "METERKIT_STORE must be 'sqlite:<file>', 'sqlite' or 'memory', got \"postgres://db\"."],
      [{ METERKIT_DURABILITY: 'fsync' }, 'METERKIT_DURABILITY must be one of interval, sync, got "fsync".'],
      [{ METERKIT_LOCK_MINUTES: '-1' }, 'METERKIT_LOCK_MINUTES must be a number from 0 to 1200, got "-1".'],
      [{ METERKIT_LOCK_MINUTES: '1201' }, 'METERKIT_LOCK_MINUTES must be a number from 0 to 1200, got "1201".'],
      [{ METERKIT_LOCK_MINUTES: 'ten' }, 'METERKIT_LOCK_MINUTES must be a number from 0 to 1200, got "ten".'],
      [{ METERKIT_COMMIT_ON: '200' }, 'METERKIT_COMMIT_ON must be one of served, 2xx, below-500, got "200".'],
      [{ METERKIT_COMMIT_ABORTED: 'yes' }, 'METERKIT_COMMIT_ABORTED must be one of true, false, got "yes".'],
      [{ METERKIT_MODE: 'dryrun' }, 'METERKIT_MODE must be one of live, dry-run, got "dryrun".'],
      [{ METERKIT_TARGET: 'cloud' }, 'METERKIT_TARGET must be one of emulator, aws, got "cloud".'],
      [{ METERKIT_AWS_REGION: 'US East' }, 'METERKIT_AWS_REGION must be an AWS region such as us-east-1, got "US East".'],
      [{ METERKIT_AWS_ENDPOINT: 'localhost:4599' }, 'METERKIT_AWS_ENDPOINT must be an http:// or https:// URL, got "localhost:4599".'],
      [{ METERKIT_FLUSH_INTERVAL_MS: '50' }, 'METERKIT_FLUSH_INTERVAL_MS must be a whole number from 100 to 3600000, got "50".'],
      [{ METERKIT_FLUSH_INTERVAL_MS: '1000.5' }, 'METERKIT_FLUSH_INTERVAL_MS must be a whole number from 100 to 3600000, got "1000.5".'],
      [{ METERKIT_EMULATOR_PORT: '70000' }, 'METERKIT_EMULATOR_PORT must be a whole number from 0 to 65535, got "70000".'],
      [{ METERKIT_EMULATOR_SPEED: '0' }, 'METERKIT_EMULATOR_SPEED must be a number above 0 and at most 36000, got "0".'],
      [{ METERKIT_EMULATOR_SPEED: '36001' }, 'METERKIT_EMULATOR_SPEED must be a number above 0 and at most 36000, got "36001".'],
      [{ METERKIT_CLOCK_OFFSET_MINUTES: '1.5' }, 'METERKIT_CLOCK_OFFSET_MINUTES must be a whole number from -525600 to 525600, got "1.5".'],
      [{ METERKIT_EVENTS_SECRET: 'short' }, 'METERKIT_EVENTS_SECRET must be at least 16 characters.'],
    ];
    for (const [env, message] of refused) {
      const variable = Object.keys(env)[0];
      expect({ env, ...refusal(env) }).toEqual({ env, message: expect.stringContaining(message), variable });
    }
  });

  it('refuses emulated time against AWS, and an AWS region or endpoint with the emulator', () => {
    const aws = { METERKIT_TARGET: 'aws', METERKIT_PRODUCT_CODE: 'prod-real' };
    expect(refusal({ ...aws, METERKIT_EMULATOR_SPEED: '120' })).toEqual({
      message: 'METERKIT_EMULATOR_SPEED applies to METERKIT_TARGET=emulator only: against AWS the app runs on real time. Unset it, or use METERKIT_TARGET=emulator.',
      variable: 'METERKIT_EMULATOR_SPEED',
    });
    expect(refusal({ ...aws, METERKIT_CLOCK_OFFSET_MINUTES: '-60' }).message).toMatch(/^METERKIT_CLOCK_OFFSET_MINUTES applies to METERKIT_TARGET=emulator only/);
    expect(refusal({ METERKIT_TARGET: 'emulator', METERKIT_AWS_REGION: 'us-east-1' }).message).toMatch(/^METERKIT_AWS_REGION applies to METERKIT_TARGET=aws only/);
    expect(refusal({ METERKIT_TARGET: 'emulator', METERKIT_AWS_REGION: 'us-east-1', METERKIT_AWS_ENDPOINT: 'http://127.0.0.1:4599' }).message).toMatch(
      /^METERKIT_AWS_REGION and METERKIT_AWS_ENDPOINT apply to METERKIT_TARGET=aws only/,
    );
  });

  it('turns METERKIT_COMMIT_ON and METERKIT_COMMIT_ABORTED into the adapter commitPolicy', () => {
    const statuses = [200, 204, 303, 400, 404, 429, 500, 503];
    const billed = (commitOn: 'served' | '2xx' | 'below-500') => statuses.filter((status) => commitPolicy({ commitOn, commitAborted: false }).commitOn!(status));
    expect(billed('served')).toEqual([200, 204, 303]);
    expect(billed('2xx')).toEqual([200, 204]);
    expect(billed('below-500')).toEqual([200, 204, 303, 400, 404, 429]);
    expect(commitPolicy({ commitOn: 'served', commitAborted: true }).commitAborted).toBe(true);
  });
});
