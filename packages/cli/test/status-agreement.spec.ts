import fc from 'fast-check';
import { createMetering, silentLogger, SqliteStore, StatusPage, type CustomerIdentity, type Metering, type StatusPageData } from '@meterkit/core';
import { startEmulator, type Emulator } from '@meterkit/emulator';
import { run } from '../src';
import { sqliteBackend, type Backend } from './support/ledger';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

const PRODUCT = 'prod-agree';
const TOKEN = 'status-token-0123456789abcdef';
const MINUTE = 60_000;
const START = Date.parse('2026-07-15T08:05:00Z');

/** One app (engine on a SQLite file, status page) and the CLI reading the same file, all on one clock. */
interface Setup {
  emu: Emulator;
  backend: Backend;
  metering: Metering;
  page: StatusPage;
  alice: CustomerIdentity;
  setTime(ms: number): void;
  now(): number;
  close(): Promise<void>;
}

async function setUp(): Promise<Setup> {
  const emu = await startEmulator({ now: START, products: [{ productCode: PRODUCT, dimensions: ['api_calls'] }] });
  const subscription = await emu.subscribe({ productCode: PRODUCT });
  const alice: CustomerIdentity = { kind: 'license', licenseArn: subscription.licenseArn!, customerAwsAccountId: subscription.accountId, productCode: PRODUCT };
  const backend = sqliteBackend();
  let clock = START;
  const metering = createMetering({
    products: [{ productCode: PRODUCT, dimensions: ['api_calls'] }],
    store: new SqliteStore({ path: backend.flags[1]!.slice('sqlite:'.length) }),
    aws: { region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
    clock: () => clock,
    logger: silentLogger,
    autoStart: false,
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
  });
  await metering.putCustomer({ identity: alice, status: 'active' });
  const page = new StatusPage(metering, { token: TOKEN });
  return {
    emu,
    backend,
    metering,
    page,
    alice,
    setTime: (ms) => {
      clock = ms;
      emu.clock.set(ms);
    },
    now: () => clock,
    close: async () => {
      page.close();
      await metering.close().catch(() => undefined);
      await emu.close();
      await backend.dispose();
    },
  };
}

/** As the other generative suites: a fixed seed under `npm test`; METERKIT_FUZZ_RUNS / _SEED / _PATH to fuzz and replay. */
function fuzzParameters(defaultRuns: number): fc.Parameters<unknown> {
  const env = process.env;
  const fuzzing = env['METERKIT_FUZZ_RUNS'] !== undefined;
  const seed = env['METERKIT_FUZZ_SEED'] !== undefined ? Number(env['METERKIT_FUZZ_SEED']) : fuzzing ? Math.floor(Math.random() * 0x7fffffff) : 20261207;
  const path = env['METERKIT_FUZZ_PATH'];
  return { numRuns: fuzzing ? Number(env['METERKIT_FUZZ_RUNS']) : defaultRuns, seed, ...(path === undefined ? {} : { path, endOnFailure: true }) };
}

interface Reading {
  /** What the page's JSON and the CLI's JSON say, ISO 8601 or undefined for never. */
  readonly page: string | undefined;
  readonly cli: string | undefined;
  /** The line each shows a person. */
  readonly pageText: string;
  readonly cliText: string;
  /** The newest settledAt of a sent record, read from the store directly. */
  readonly store: string | undefined;
}

async function read(s: Setup): Promise<Reading> {
  const headers = { authorization: `Bearer ${TOKEN}` };
  const json = await s.page.handle({ method: 'GET', url: '/meterkit/status.json', headers });
  const data = JSON.parse(json.body) as StatusPageData;
  const html = (await s.page.handle({ method: 'GET', url: '/meterkit/status', headers })).body;
  const pageText = /id="last-send"[^>]*>([^<]*)</.exec(html)?.[1] ?? '(missing)';
  const cli = async (argv: string[]) => {
    const out: string[] = [];
    const code = await run([...s.backend.flags, ...argv], { stdout: (t) => void out.push(t), stderr: () => undefined, env: {}, clock: s.now });
    expect(code).toBe(0);
    return out.join('');
  };
  const cliJson = JSON.parse(await cli(['--json', 'status'])) as { lastSuccessfulSendAt?: string };
  const cliText = /Last successful send: (.*)/.exec(await cli(['status']))?.[1] ?? '(missing)';
  const sent = await s.metering.store.listRecords({ states: ['sent'] });
  const newest = Math.max(...sent.map((r) => r.settledAt!));
  return {
    page: data.lastSuccessfulSendAt,
    cli: cliJson.lastSuccessfulSendAt,
    pageText: pageText.replace(/&#39;/g, "'"),
    cliText,
    store: sent.length === 0 ? undefined : new Date(newest).toISOString(),
  };
}

function expectAgreement(r: Reading): void {
  expect(r.page).toBe(r.store);
  expect(r.cli).toBe(r.store);
  expect(r.pageText).toBe(r.cliText);
}

describe('the status page and `meterkit status` report the same last successful send', () => {
  it('never after an empty flush and a failed one; the accepted records’ time after a successful one, kept by later empty and failed flushes', async () => {
    const s = await setUp();
    try {
      await s.metering.flush(); // nothing to send
      let r = await read(s);
      expectAgreement(r);
      expect(r.page).toBeUndefined();
      expect(r.pageText).toBe('never');

      await s.metering.meter(s.alice).record('api_calls', 5).commit();
      s.setTime(START + 75 * MINUTE);
      s.emu.faults.failNext('BatchMeterUsage', 'ThrottlingException', 10);
      await s.metering.flush(); // throttled: nothing accepted
      s.emu.faults.reset();
      r = await read(s);
      expectAgreement(r);
      expect(r.page).toBeUndefined();
      expect((await s.metering.status()).counts).toMatchObject({ pending: 1, sent: 0 });

      s.setTime(START + 90 * MINUTE);
      await s.metering.flush(); // accepted
      r = await read(s);
      expectAgreement(r);
      expect(r.page).toBe(new Date(START + 90 * MINUTE).toISOString());
      expect(r.cliText).toBe('2026-07-15 09:35 UTC (just now)');

      s.setTime(START + 100 * MINUTE);
      await s.metering.flush(); // empty again
      await s.metering.meter(s.alice).record('api_calls', 2).commit();
      s.setTime(START + 150 * MINUTE);
      s.emu.faults.failNext('BatchMeterUsage', 'InternalServiceErrorException', 10);
      await s.metering.flush(); // failed again
      s.emu.faults.reset();
      r = await read(s);
      expectAgreement(r);
      expect((await s.metering.status()).counts).toMatchObject({ pending: 1, sent: 1 });
      expect(r.page).toBe(new Date(START + 90 * MINUTE).toISOString());
      expect(r.pageText).toBe('2026-07-15 09:35 UTC (1 h 0 min ago)');
    } finally {
      await s.close();
    }
  }, 60_000);

  type Step = { kind: 'record'; quantity: number } | { kind: 'advance'; minutes: number } | { kind: 'flush' } | { kind: 'failing flush'; exception: string };
  const step: fc.Arbitrary<Step> = fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('record' as const), quantity: fc.integer({ min: 1, max: 50 }) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), minutes: fc.integer({ min: 1, max: 120 }) }) },
    { weight: 2, arbitrary: fc.constant({ kind: 'flush' as const }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('failing flush' as const), exception: fc.constantFrom('ThrottlingException', 'InternalServiceErrorException') }) },
  );
  /** Usage first, and a closing flush once its hour is due, so every run has a flush that sends. */
  const steps = fc
    .tuple(fc.integer({ min: 1, max: 50 }), fc.array(step, { maxLength: 10 }))
    .map(([quantity, middle]): Step[] => [{ kind: 'record', quantity }, ...middle, { kind: 'advance', minutes: 120 }, { kind: 'flush' }]);

  let sending = 0;
  afterAll(() => {
    // The generator must reach flushes that send, or the property says nothing about them.
    expect(sending).toBeGreaterThan(0);
  });

  /** Checks page, CLI and store after each flush of `sequence`, and that only a flush that sent something moves the time. */
  async function runSteps(sequence: readonly Step[]): Promise<void> {
    const s = await setUp();
    try {
      let before = await read(s);
      expectAgreement(before);
      for (const st of sequence) {
        if (st.kind === 'record') await s.metering.meter(s.alice).record('api_calls', st.quantity).commit();
        if (st.kind === 'advance') s.setTime(s.now() + st.minutes * MINUTE);
        if (st.kind === 'failing flush') s.emu.faults.failNext('BatchMeterUsage', st.exception, 10);
        if (st.kind === 'flush' || st.kind === 'failing flush') {
          const report = await s.metering.flush();
          s.emu.faults.reset();
          const after = await read(s);
          expectAgreement(after);
          if (report.sent > 0) sending += 1;
          if (report.sent === 0) expect(after.page).toBe(before.page);
          else expect(after.page).toBe(new Date(s.now()).toISOString());
          before = after;
        }
      }
    } finally {
      await s.close();
    }
  }

  it('regression (property below, seed 1373389213, path "6:0:1:0:0"): a flush before the hour is due sends nothing and the page still says never', async () => {
    await runSteps([{ kind: 'record', quantity: 1 }, { kind: 'flush' }, { kind: 'advance', minutes: 120 }, { kind: 'flush' }]);
  }, 60_000);

  it('property: after any sequence of usage, clock moves, successful, empty and failed flushes, page, CLI and store agree, and only a flush that sent something moves it', async () => {
    await fc.assert(
      fc.asyncProperty(steps, (sequence) => runSteps(sequence)),
      fuzzParameters(8),
    );
  }, 180_000);
});
