import { isMeterkitError } from '@meterkit/core';
import { acceleratedTimeOptions, commitPolicy, readEnv } from '../src/config';

/** The error readEnv throws for `env`: a MeterkitError ERR_METERKIT_OPTIONS naming the variable. */
function refusal(env: NodeJS.ProcessEnv): { message: string; variable: unknown } {
  try {
    readEnv(env);
  } catch (error) {
    if (!isMeterkitError(error, 'ERR_METERKIT_OPTIONS')) throw error;
    return { message: error.message, variable: error.details?.variable };
  }
  throw new Error(`accepted: ${JSON.stringify(env)}`);
}

describe('express-sample: configuration from the environment', () => {
  it('meters to a local emulator by default, as the app always did', () => {
    expect(readEnv({})).toEqual({
      port: 3000,
      host: '127.0.0.1',
      productCode: 'prod-sample-api',
      dimensions: ['api_calls', 'rows_exported'],
      contractProductCode: 'prod-sample-team',
      identity: 'license',
      store: 'sqlite:./meterkit.db',
      appDb: './app.db',
      durability: 'interval',
      lockMinutes: 10,
      commitOn: 'served',
      commitAborted: false,
      mode: 'live',
      target: 'emulator',
      emulatorPort: 4599,
      emulatorSpeed: 1,
      clockOffsetMinutes: 0,
    });
    expect(readEnv({ METERKIT_DURABILITY: '', METERKIT_LOCK_MINUTES: '' })).toEqual(readEnv({}));
    expect(acceleratedTimeOptions(1)).toEqual({});
  });

  it('reads every operator setting', () => {
    expect(
      readEnv({
        PORT: '8080',
        HOST: '0.0.0.0',
        METERKIT_PRODUCT_CODE: 'prod-abc123',
        METERKIT_DIMENSIONS: 'api_calls, rows_exported,seats',
        METERKIT_CONTRACT_PRODUCT_CODE: 'prod-team-x',
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
      productCode: 'prod-abc123',
      dimensions: ['api_calls', 'rows_exported', 'seats'],
      contractProductCode: 'prod-team-x',
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
    expect(readEnv({ METERKIT_STORE: 'memory' }).store).toBe('memory');
    expect(readEnv({ METERKIT_LOCK_MINUTES: '0' }).lockMinutes).toBe(0);
    expect(readEnv({ METERKIT_COMMIT_ON: 'below-500' }).commitOn).toBe('below-500');
  });

  it('sells the contract product under METERKIT_CONTRACT_PRODUCT_CODE; against AWS only when it is set', () => {
    expect(readEnv({ METERKIT_CONTRACT_PRODUCT_CODE: 'prod-team-x' }).contractProductCode).toBe('prod-team-x');
    const aws = { METERKIT_AWS_REGION: 'us-east-1', METERKIT_PRODUCT_CODE: 'prod-real' };
    expect(readEnv(aws).contractProductCode).toBeUndefined();
    expect(readEnv({ ...aws, METERKIT_CONTRACT_PRODUCT_CODE: 'prod-team-x' }).contractProductCode).toBe('prod-team-x');
    expect(refusal({ METERKIT_CONTRACT_PRODUCT_CODE: 'prod-sample-api' })).toEqual({
      message: 'METERKIT_CONTRACT_PRODUCT_CODE must be another product code than METERKIT_PRODUCT_CODE, got "prod-sample-api".',
      variable: 'METERKIT_CONTRACT_PRODUCT_CODE',
    });
  });

  it('meters to AWS with METERKIT_TARGET=aws, or when an AWS region or endpoint is set, and needs the product code then', () => {
    expect(readEnv({ METERKIT_TARGET: 'aws', METERKIT_PRODUCT_CODE: 'prod-real' })).toMatchObject({ target: 'aws', productCode: 'prod-real' });
    expect(readEnv({ METERKIT_TARGET: 'aws', METERKIT_PRODUCT_CODE: 'prod-real' }).awsRegion).toBeUndefined();
    expect(readEnv({ METERKIT_AWS_REGION: 'eu-west-1', METERKIT_PRODUCT_CODE: 'prod-real' })).toMatchObject({ target: 'aws', awsRegion: 'eu-west-1' });
    expect(readEnv({ METERKIT_AWS_ENDPOINT: 'https://vpce.example.com', METERKIT_PRODUCT_CODE: 'prod-real' })).toMatchObject({
      target: 'aws',
      awsEndpoint: 'https://vpce.example.com',
    });
    expect(refusal({ METERKIT_TARGET: 'aws' })).toEqual({ message: "METERKIT_PRODUCT_CODE is required with METERKIT_TARGET=aws: your listing's product code.", variable: 'METERKIT_PRODUCT_CODE' });
  });

  it('refuses each bad value with a message naming the variable and what it accepts', () => {
    const refused: Array<[NodeJS.ProcessEnv, string]> = [
      [{ PORT: 'http' }, 'PORT must be a whole number from 0 to 65535, got "http".'],
      [{ METERKIT_PRODUCT_CODE: 'prod code' }, 'METERKIT_PRODUCT_CODE must be a product code (1 to 255 of letters, digits and - / = : _ . @), got "prod code".'],
      [{ METERKIT_DIMENSIONS: 'api_calls' }, 'METERKIT_DIMENSIONS must be a comma-separated list of dimension API names (1 to 255 characters each, no repeats) including api_calls and rows_exported, got "api_calls".'],
      [{ METERKIT_DIMENSIONS: 'api_calls,,rows_exported' }, 'METERKIT_DIMENSIONS must be a comma-separated list'],
      [{ METERKIT_DIMENSIONS: 'api_calls,rows_exported,api_calls' }, 'METERKIT_DIMENSIONS must be a comma-separated list'],
      [{ METERKIT_CONTRACT_PRODUCT_CODE: 'team code' }, 'METERKIT_CONTRACT_PRODUCT_CODE must be a product code (1 to 255 of letters, digits and - / = : _ . @), got "team code".'],
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

  it('flushes every emulated minute (at most once a real second) and keeps leases 5 emulated minutes or more with accelerated time', () => {
    expect(acceleratedTimeOptions(120)).toEqual({ flushIntervalMs: 1000, leaseMs: 3_600_000 });
    expect(acceleratedTimeOptions(10)).toEqual({ flushIntervalMs: 6000, leaseMs: 3_000_000 });
  });
});
