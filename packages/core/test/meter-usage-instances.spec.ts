import { hostname } from 'node:os';
import { startEmulator, type Emulator } from '@meterkit/emulator';
import { clientTokenFor, createMetering, isMeterkitError, silentLogger, type Metering, type MeteringOptions } from '../src';
import { resolveOptions } from '../src/options';

/**
 * MeterUsage de-duplicates per instance (EC2 instance, ECS task, EKS pod), each with its own store; AWS does not say
 * whether a ClientToken is remembered per instance or per account, and the emulator remembers it per account. Two
 * instances reporting the same quantity for the same dimension and hour must not send the same token, or the second
 * report is answered as a resend of the first and not billed.
 */

const AMI = 'prod-ami-pods';
const at = (iso: string): number => Date.parse(iso);

let emu: Emulator;
const engines: Metering[] = [];

function instance(name: string, overrides: Partial<MeteringOptions> = {}): Metering {
  const metering = createMetering({
    products: [{ productCode: AMI, dimensions: ['pod_hours'], identity: 'product' }],
    store: 'memory',
    // Each instance calls AWS with its own role session: the emulator keys MeterUsage's hour per caller.
    aws: { region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: `session-${name}`, secretAccessKey: 'test' } },
    clock: () => emu.clock.now(),
    logger: silentLogger,
    autoStart: false,
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
    instanceId: name,
    ...overrides,
  });
  engines.push(metering);
  return metering;
}

beforeEach(async () => {
  emu = await startEmulator({ now: at('2026-07-15T10:20:00Z'), products: [{ productCode: AMI, dimensions: ['pod_hours'] }] });
});

afterEach(async () => {
  for (const metering of engines.splice(0)) await metering.close();
  await emu.close();
});

describe('MeterUsage ClientToken across instances', () => {
  it('two pods reporting the same quantity for the same hour, each from its own store, are both billed', async () => {
    const pods = [instance('pod-a'), instance('pod-b')];
    for (const pod of pods) await pod.productMeter().record('pod_hours', 1).commit();
    emu.clock.set(at('2026-07-15T11:11:00Z'));
    const reports = [];
    for (const pod of pods) reports.push(await pod.flush());
    expect(reports.map((r) => r.sent)).toEqual([1, 1]);
    const records = emu.inspect.records();
    expect(records).toHaveLength(2);
    expect(new Set(records.map((r) => r.meteringRecordId)).size).toBe(2);
    expect(records.reduce((sum, r) => sum + r.quantity, 0)).toBe(2);
  });

  it('a pod resending its record after a lost answer sends the same token: billed once', async () => {
    const pod = instance('pod-a');
    await pod.productMeter().record('pod_hours', 1).commit();
    emu.clock.set(at('2026-07-15T11:11:00Z'));
    emu.faults.failNext('MeterUsage', 'lost-answer', 1);
    await pod.flush();
    emu.clock.advance(60_000);
    await pod.flush();
    const [record] = await pod.store.listRecords();
    expect(record).toMatchObject({ state: 'sent' });
    expect(emu.inspect.calls('MeterUsage').length).toBeGreaterThanOrEqual(2);
    expect(emu.inspect.records()).toHaveLength(1);
  });

  it('the token covers the instance; instanceId defaults to the host name and must be a non-empty string', () => {
    const input = { ProductCode: AMI, UsageDimension: 'pod_hours', Timestamp: new Date(at('2026-07-15T10:00:00Z')), UsageQuantity: 1 };
    expect(clientTokenFor(input, 'pod-a')).not.toBe(clientTokenFor(input, 'pod-b'));
    expect(clientTokenFor(input, 'pod-a')).toBe(clientTokenFor({ ...input }, 'pod-a'));
    expect(clientTokenFor(input, 'pod-a').length).toBeLessThanOrEqual(64);
    const options: MeteringOptions = { products: [{ productCode: AMI, dimensions: ['pod_hours'], identity: 'product' }], store: 'memory' };
    expect(resolveOptions(options).instanceId).toBe(hostname());
    for (const instanceId of ['', 7, ' '.repeat(3)]) {
      let code: string | undefined;
      try {
        resolveOptions({ ...options, instanceId: instanceId as string });
      } catch (error) {
        code = isMeterkitError(error) ? error.code : String(error);
      }
      expect(code).toBe('ERR_METERKIT_OPTIONS');
    }
  });
});
