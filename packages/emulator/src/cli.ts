/**
 * meterkit-emulator: start an emulator (default command) or drive a running one through its admin API.
 */
import { Command, InvalidArgumentError } from 'commander';
import { readFileSync } from 'node:fs';
import { describeSpeed } from './clock';
import { startEmulator } from './start-emulator';
import type { ContractDimensions, Emulator, EmulatorProduct, EntitlementSettings, FaultOptions, StartEmulatorOptions } from './types';

export const DEFAULT_CLI_PORT = 4599;

const URL_HELP = `emulator URL of the commands that drive a running emulator (default env METERKIT_EMULATOR_URL or http://127.0.0.1:${DEFAULT_CLI_PORT})`;

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

const PRODUCT_SPEC_HELP = '<productCode>:<dim1,dim2>[:legacy|license][:contract=<c1,c2>|:contract-with-consumption=<c1,c2>]';

/**
 * `code:dim1,dim2`, `code:dim1,dim2:legacy`, and for contract products `code::contract=seats,admins` or
 * `code:api_calls:legacy:contract-with-consumption=seats` (metered dimensions, then the contract dimensions).
 */
export function parseProductSpec(spec: string): EmulatorProduct {
  const [code, dims, ...rest] = spec.split(':');
  const bad = () => new InvalidArgumentError(`expected ${PRODUCT_SPEC_HELP}, got '${spec}'`);
  if (!code || dims === undefined || rest.length > 2) throw bad();
  const product: EmulatorProduct = { productCode: code, dimensions: dims.split(',').filter(Boolean) };
  for (const part of rest) {
    const m = /^(contract|contract-with-consumption)=(.+)$/.exec(part);
    if (m && product.pricing === undefined) {
      product.pricing = m[1] as 'contract' | 'contract-with-consumption';
      product.contractDimensions = m[2].split(',').filter(Boolean);
    } else if ((part === 'legacy' || part === 'license') && product.identity === undefined && product.pricing === undefined) {
      product.identity = part;
    } else {
      throw bad();
    }
  }
  return product;
}

/** `seats=10,tier=gold,sso=true,storage_gb=1.5`: numbers, true/false, anything else a string. */
export function parseContractSpec(spec: string): ContractDimensions {
  const out: ContractDimensions = {};
  for (const pair of spec.split(',').filter(Boolean)) {
    const m = /^([^=\s]+)=(.+)$/.exec(pair.trim());
    if (!m) throw new InvalidArgumentError(`expected <dimension>=<value>[,<dimension>=<value>...], got '${spec}'`);
    const raw = m[2];
    out[m[1]] = raw === 'true' ? true : raw === 'false' ? false : /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
  }
  if (Object.keys(out).length === 0) throw new InvalidArgumentError(`expected <dimension>=<value>[,...], got '${spec}'`);
  return out;
}

export function parseProductsFile(path: string): EmulatorProduct[] {
  const data = JSON.parse(readFileSync(path, 'utf8')) as EmulatorProduct[] | { products: EmulatorProduct[] };
  const list = Array.isArray(data) ? data : data.products;
  if (!Array.isArray(list)) throw new InvalidArgumentError(`${path}: expected a JSON array of products or {"products": [...]}`);
  return list;
}

/** Milliseconds from `90m`, `2h`, `1d`, `30s`, `500ms` or a plain number of milliseconds (may be negative). */
export function parseDuration(s: string): number {
  const m = /^(-?\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(s.trim());
  if (!m) throw new InvalidArgumentError(`not a duration: '${s}' (use e.g. 500ms, 30s, 90m, 2h, 1d)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 'ms') as 'ms'];
  return Number(m[1]) * unit;
}

export function parseTime(s: string): number {
  const n = /^\d+$/.test(s) ? Number(s) : Date.parse(s);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`not a time: '${s}' (ISO 8601 or ms epoch)`);
  return n;
}

const num = (s: string) => {
  const n = Number(s);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`not a number: '${s}'`);
  return n;
};
const collect = (v: string, prev: EmulatorProduct[] = []) => [...prev, parseProductSpec(v)];

async function admin(url: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${url.replace(/\/+$/, '')}/_emulator${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const data = (await res.json()) as { error?: string };
  if (!res.ok) throw new Error(data.error ?? `HTTP ${res.status}`);
  return data;
}

const FAULT_FLAGS: Array<[keyof FaultOptions, string, string]> = [
  ['throttleRate', '--throttle-rate <rate>', 'share of calls answered ThrottlingException (0..1)'],
  ['serverErrorRate', '--server-error-rate <rate>', 'share of calls answered InternalServiceErrorException 500 (0..1)'],
  ['unprocessedRate', '--unprocessed-rate <rate>', 'share of BatchMeterUsage records returned unprocessed (0..1)'],
  ['latencyMs', '--latency-ms <ms>', 'delay added to every API call'],
  ['resetRate', '--reset-rate <rate>', 'share of calls whose connection is reset before applying (0..1)'],
  ['lostAnswerRate', '--lost-answer-rate <rate>', 'share of calls applied, then answered 500 or reset (0..1)'],
];

function faultsFrom(o: Record<string, unknown>): Partial<FaultOptions> {
  const f: Partial<FaultOptions> = {};
  for (const [k] of FAULT_FLAGS) if (o[k] !== undefined) f[k] = o[k] as number;
  return f;
}

export function buildCli(io: CliIo, started: (e: Emulator) => void = () => undefined): Command {
  const program = new Command('meterkit-emulator')
    .description('A local AWS Marketplace Metering Service for tests and CI (AWS JSON 1.1 over HTTP).')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    // Also on each client command: before the command (`-u URL subscribe p1`) or anywhere after it.
    .option('-u, --url <url>', URL_HELP);

  const start = program
    .command('start', { isDefault: true })
    .description('start an emulator and print where it listens')
    .option('-p, --port <port>', 'port (0 = random)', num, DEFAULT_CLI_PORT)
    .option('-H, --host <host>', 'host to bind', '127.0.0.1')
    .option('-r, --region <region>', 'region this emulator plays', 'us-east-1')
    .option('--products <file>', 'JSON file: [{"productCode","dimensions",["identity","pricing","contractDimensions"]}] or {"products": [...]}')
    .option('--product <spec>', `a product as ${PRODUCT_SPEC_HELP} (repeatable)`, collect)
    .option('--seed <n>', 'seed of the fault PRNG', num, 1)
    .option('--now <time>', 'initial emulated time (ISO 8601 or ms epoch)', parseTime)
    .option('--speed <factor>', 'emulated time runs this many times as fast as real time (120: an hour every 30 s)', num)
    .option('--batch-window <duration>', 'BatchMeterUsage window (default 24h)', parseDuration)
    .option('--meter-usage-window <duration>', 'MeterUsage window (default 6h)', parseDuration)
    .option('--month-end-cutoff-hours <h>', 'hour (UTC) on the 1st after which previous-month records are refused (default 6)', num)
    .option('--future-skew <duration>', 'accepted future clock skew (default 5m)', parseDuration)
    .option('--token-ttl <duration>', 'registration token lifetime (default 4h)', parseDuration)
    .option('--final-usage-window <duration>', 'final-usage window after deprovisioning (default 1h)', parseDuration)
    .option('--events-url <url>', 'EventBridge API-destination style target for lifecycle events')
    .option('--events-header-name <name>', 'connection header name', 'x-api-key')
    .option('--events-header-value <value>', 'connection header value (or env METERKIT_EMULATOR_EVENTS_SECRET)')
    .option('--sns-url <url>', 'HTTP endpoint subscribed to the legacy SNS topics')
    .option('--seller-account-id <id>', 'seller account id in events', '111111111111')
    .option('--entitlement-page-size <n>', 'GetEntitlements page size without MaxResults, 1..25 (default 25)', num)
    .option('--entitlement-empty-pages', 'GetEntitlements puts an empty page carrying NextToken before every page')
    .option('--entitlement-lag <duration>', 'delay before GetEntitlements reflects a contract change (default 0)', parseDuration)
    .option('--entitlement-throttle-per-second <n>', 'GetEntitlements calls per second above which ThrottlingException answers (default 20)', num)
    .option('--quiet', 'do not log each call');
  for (const [, flag, desc] of FAULT_FLAGS) start.option(flag, desc, num);
  start.action(async (o: Record<string, any>) => {
    const products = [...(o.products ? parseProductsFile(o.products as string) : []), ...((o.product as EmulatorProduct[] | undefined) ?? [])];
    const headerValue = (o.eventsHeaderValue as string | undefined) ?? process.env.METERKIT_EMULATOR_EVENTS_SECRET;
    const opts: StartEmulatorOptions = {
      port: o.port as number,
      host: o.host as string,
      region: o.region as string,
      products,
      seed: o.seed as number,
      faults: faultsFrom(o),
      ...(o.now !== undefined ? { now: o.now as number } : {}),
      ...(o.speed !== undefined ? { speed: o.speed as number } : {}),
      windows: { batchMeterUsageMs: o.batchWindow, meterUsageMs: o.meterUsageWindow, monthEndCutoffHours: o.monthEndCutoffHours, futureSkewMs: o.futureSkew },
      ...(o.tokenTtl !== undefined ? { tokenTtlMs: o.tokenTtl as number } : {}),
      ...(o.finalUsageWindow !== undefined ? { finalUsageWindowMs: o.finalUsageWindow as number } : {}),
      ...(o.eventsUrl ? { events: { url: o.eventsUrl as string, headerName: o.eventsHeaderName as string, ...(headerValue ? { headerValue } : {}) } } : {}),
      ...(o.snsUrl ? { sns: { url: o.snsUrl as string } } : {}),
      sellerAccountId: o.sellerAccountId as string,
      entitlements: {
        pageSize: o.entitlementPageSize as number | undefined,
        emptyPages: o.entitlementEmptyPages as boolean | undefined,
        lagMs: o.entitlementLag as number | undefined,
        throttlePerSecond: o.entitlementThrottlePerSecond as number | undefined,
      },
      ...(o.quiet ? {} : { logger: (l: string) => io.out(`[emulator] ${l}`) }),
    };
    const emu = await startEmulator(opts);
    io.out(`meterkit emulator listening on ${emu.endpoint} (region ${emu.region})`);
    const describe = (p: EmulatorProduct) =>
      `${p.productCode} [${p.identity}${p.pricing === 'subscription' ? '' : `, ${p.pricing}: ${(p.contractDimensions ?? []).join(',')}`}] ${p.dimensions.join(',')}`;
    io.out(`products: ${emu.products().map(describe).join('; ') || 'none (add with POST /_emulator/products)'}`);
    io.out(`admin: ${emu.endpoint}/_emulator/summary`);
    if (emu.clock.speed !== 1) io.out(`${describeSpeed(emu.clock.speed)}; emulated time now ${new Date(emu.clock.now()).toISOString()} (GET ${emu.endpoint}/_emulator/clock)`);
    started(emu);
  });

  const url = (cmd: Command) => (cmd.optsWithGlobals().url as string | undefined) ?? process.env.METERKIT_EMULATOR_URL ?? `http://127.0.0.1:${DEFAULT_CLI_PORT}`;
  const print = (data: unknown) => io.out(JSON.stringify(data, null, 2));
  const client = (name: string, description: string) =>
    program.command(name).description(description).option('-u, --url <url>', URL_HELP);

  client('subscribe', 'subscribe a buyer to a product (creates account, agreement, license or customer id, token)')
    .argument('<productCode>')
    .option('--account-id <id>', '12-digit buyer account id (default random)')
    .option('--registration-url <url>', "POST the token to the seller's registration URL")
    .option('--free-trial', 'free-trial offer (adds x-amzn-marketplace-offer-type=free-trial)')
    .option('--fail', 'legacy products: payment fails (SNS subscribe-fail)')
    .option('--contract <values>', 'contract products: what the buyer bought, e.g. seats=10,tier=gold,sso=true', parseContractSpec)
    .option('--duration-months <n>', 'contract duration in months (default 12)', num)
    .option('--auto-renew', 'the contract renews at the end of its term instead of expiring')
    .action(async function (this: Command, productCode: string, o: Record<string, unknown>) {
      print(
        await admin(url(this), 'POST', '/subscribe', {
          productCode,
          ...(o.accountId ? { accountId: o.accountId } : {}),
          ...(o.registrationUrl ? { registrationUrl: o.registrationUrl } : {}),
          ...(o.freeTrial ? { offerType: 'free-trial' } : {}),
          ...(o.fail ? { fail: true } : {}),
          ...(o.contract
            ? {
                contract: {
                  dimensions: o.contract,
                  ...(o.durationMonths !== undefined ? { durationMonths: o.durationMonths } : {}),
                  ...(o.autoRenew ? { autoRenew: true } : {}),
                },
              }
            : {}),
        }),
      );
    });
  const ID_HELP = 'license ARN, customer identifier or agreement id';
  for (const [name, desc] of [
    ['cancel', 'cancel an agreement: Agreement Ended + License Deprovisioned (legacy: SNS unsubscribe-pending; contracts: entitlement-updated)'],
    ['replace', 'replace an agreement (new agreement and license; the old license is deprovisioned)'],
    ['expire', 'end a contract at the end of its term without renewal: Agreement Ended (EXPIRED) + License Deprovisioned'],
  ] as const) {
    client(name, desc)
      .argument('<id>', ID_HELP)
      .action(async function (this: Command, id: string) {
        print(await admin(url(this), 'POST', `/${name}`, { id }));
      });
  }
  for (const [name, desc, contractHelp] of [
    ['renew', 'renew an agreement (new agreement, same license; a contract starts its next term)', "the renewed contract's values (default the current ones)"],
    ['amend', 'amend an agreement (Agreement Amended + License Updated)', 'raise contract values, e.g. seats=20 (they may only go up)'],
  ] as const) {
    client(name, desc)
      .argument('<id>', ID_HELP)
      .option('--contract <values>', contractHelp, parseContractSpec)
      .action(async function (this: Command, id: string, o: { contract?: ContractDimensions }) {
        print(await admin(url(this), 'POST', `/${name}`, { id, ...(o.contract ? { dimensions: o.contract } : {}) }));
      });
  }
  client('entitlements', "every contract's entitlements (current values, status, when GetEntitlements shows them)")
    .argument('[productCode]')
    .action(async function (this: Command, productCode?: string) {
      print(await admin(url(this), 'GET', `/entitlements${productCode ? `?productCode=${encodeURIComponent(productCode)}` : ''}`));
    });
  client('entitlement-settings', 'show or change GetEntitlements paging, lag and throttling')
    .option('--page-size <n>', 'page size without MaxResults (1..25)', num)
    .option('--empty-pages', 'put an empty page carrying NextToken before every page')
    .option('--no-empty-pages', 'no empty pages')
    .option('--lag <duration>', 'delay before GetEntitlements reflects a contract change', parseDuration)
    .option('--throttle-per-second <n>', 'calls per second above which ThrottlingException answers', num)
    .action(async function (this: Command, o: { pageSize?: number; emptyPages?: boolean; lag?: number; throttlePerSecond?: number }) {
      const changes: Partial<EntitlementSettings> = {
        ...(o.pageSize !== undefined ? { pageSize: o.pageSize } : {}),
        ...(this.getOptionValueSource('emptyPages') === 'cli' ? { emptyPages: o.emptyPages } : {}),
        ...(o.lag !== undefined ? { lagMs: o.lag } : {}),
        ...(o.throttlePerSecond !== undefined ? { throttlePerSecond: o.throttlePerSecond } : {}),
      };
      print(Object.keys(changes).length ? await admin(url(this), 'POST', '/entitlements/settings', changes) : await admin(url(this), 'GET', '/entitlements/settings'));
    });
  client('token', 'issue a fresh registration token for a license or customer')
    .argument('<id>')
    .action(async function (this: Command, id: string) {
      print(await admin(url(this), 'POST', '/tokens', { id }));
    });
  client('inspect', 'show what the emulator saw')
    .argument('[view]', 'summary | records | totals | calls | rejected | duplicates | events | buyers | products | entitlements', 'summary')
    .action(async function (this: Command, view: string) {
      const views = ['summary', 'records', 'totals', 'calls', 'rejected', 'duplicates', 'events', 'buyers', 'products', 'entitlements'];
      if (!views.includes(view)) throw new InvalidArgumentError(`view must be one of ${views.join(', ')}`);
      print(await admin(url(this), 'GET', `/${view}`));
    });
  client('totals', 'accepted quantity per customer and dimension').action(async function (this: Command) {
    print(await admin(url(this), 'GET', '/totals'));
  });
  client('records', 'accepted records: customer, dimension, hour, quantity, MeteringRecordId, when received').action(async function (this: Command) {
    print(await admin(url(this), 'GET', '/records'));
  });
  client('clock', 'show or move emulated time, or change its speed')
    .option('--set <time>', 'jump to a time (ISO 8601 or ms epoch)')
    .option('--advance <duration>', 'move forward, e.g. 90m, 2h, 1d')
    .option('--speed <factor>', 'from now on run this many times as fast as real time (1 = real time)', num)
    .action(async function (this: Command, o: { set?: string; advance?: string; speed?: number }) {
      if (o.set === undefined && o.advance === undefined && o.speed === undefined) return print(await admin(url(this), 'GET', '/clock'));
      print(
        await admin(url(this), 'POST', '/clock', {
          ...(o.speed !== undefined ? { speed: o.speed } : {}),
          ...(o.set ? { set: parseTime(o.set) } : {}),
          ...(o.advance ? { advance: parseDuration(o.advance) } : {}),
        }),
      );
    });
  const faults = client('faults', 'show or set fault rates');
  for (const [, flag, desc] of FAULT_FLAGS) faults.option(flag, desc, num);
  faults.option('--reset', 'clear all faults').action(async function (this: Command, o: Record<string, unknown>) {
    if (o.reset) return print(await admin(url(this), 'POST', '/faults/reset'));
    const f = faultsFrom(o);
    print(Object.keys(f).length ? await admin(url(this), 'POST', '/faults', f) : await admin(url(this), 'GET', '/faults'));
  });
  client('fail-next', "fail the next call(s) of an operation ('*' = any) with an error name, reset, lost-answer or lost-answer-reset")
    .argument('<operation>')
    .argument('<error>')
    .argument('[count]', 'how many calls', num, 1)
    .action(async function (this: Command, operation: string, error: string, count: number) {
      print(await admin(url(this), 'POST', '/faults/fail-next', { operation, error, count }));
    });
  client('reset', 'clear usage, calls, events and faults (keeps products and buyers)').action(async function (this: Command) {
    print(await admin(url(this), 'POST', '/reset'));
  });
  return program;
}

/** Runs the CLI; resolves with the emulator for `start`, or undefined after a client command. */
export async function main(argv: string[], io: CliIo = { out: (l) => console.log(l), err: (l) => console.error(l) }): Promise<Emulator | undefined> {
  let emu: Emulator | undefined;
  const program = buildCli(io, (e) => (emu = e));
  await program.parseAsync(argv);
  return emu;
}

function runAsBin(): void {
  main(process.argv)
    .then((emu) => {
      if (!emu) return;
      const stop = () => {
        void emu.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    })
    .catch((e: Error & { code?: string; exitCode?: number }) => {
      if (e.code?.startsWith('commander.')) process.exit(e.exitCode ?? 1);
      console.error(`meterkit-emulator: ${e.message}`);
      process.exit(1);
    });
}

if (require.main === module || /meterkit-emulator(\.js)?$/.test(require.main?.filename ?? '')) runAsBin();
