import { startEmulator, type Emulator } from '@meterkit/emulator';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { createHealthCheck, createMetering, createMeteringClient, instrumentMetering, silentLogger, type CustomerIdentity, type Metering } from '../src';
import { at, identityOf } from './support/world';

const PRODUCT = 'prod-otel';

/** Sum of a metric's points whose attributes include `attributes` (histograms: their count). */
function valueOf(metrics: MetricData[], name: string, attributes: Record<string, string> = {}): number | undefined {
  const metric = metrics.find((m) => m.descriptor.name === name);
  const points = (metric?.dataPoints ?? []).filter((p) => Object.entries(attributes).every(([k, v]) => p.attributes[k] === v));
  if (points.length === 0) return undefined;
  return points.reduce((sum, p) => sum + (typeof p.value === 'number' ? p.value : (p.value as { count: number }).count), 0);
}

describe('OpenTelemetry metrics and the health check, after a known workload against the emulator', () => {
  let emu: Emulator;
  let metering: Metering;
  let provider: MeterProvider;
  let reader: PeriodicExportingMetricReader;
  let customer: CustomerIdentity;

  beforeEach(async () => {
    emu = await startEmulator({ now: at('2026-07-15T10:20:00Z'), products: [{ productCode: PRODUCT, dimensions: ['api_calls'] }] });
    const client = createMeteringClient({ region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    metering = createMetering({
      products: [{ productCode: PRODUCT, dimensions: ['api_calls', 'gb_processed'] }],
      store: 'memory',
      aws: { client },
      clock: () => emu.clock.now(),
      logger: silentLogger,
      autoStart: false,
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
    });
    provider = new MeterProvider({ readers: [(reader = new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 3_600_000 }))] });
    customer = identityOf(await emu.subscribe({ productCode: PRODUCT }));
    clients.set(metering, client);
  });
  const clients = new Map<Metering, ReturnType<typeof createMeteringClient>>();

  afterEach(async () => {
    await provider.shutdown();
    await metering.close();
    await emu.close();
  });

  async function collect(): Promise<MetricData[]> {
    const { resourceMetrics } = await reader.collect();
    return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
  }

  it('counts units, records by AWS status, calls by outcome with latency, and samples the pending gauges', async () => {
    const instrumentation = instrumentMetering(metering, { meter: provider.getMeter('meterkit-test'), client: clients.get(metering)!, sampleIntervalMs: 0 });
    expect(instrumentation.active).toBe(true);
    const other = identityOf(await emu.subscribe({ productCode: PRODUCT }));
    await metering.meter(customer).record('api_calls', 30).record('gb_processed', 5).commit();
    await metering.meter(other).record('api_calls', 12).commit();
    emu.clock.set(at('2026-07-15T11:15:00Z'));
    await metering.meter(customer).record('api_calls', 8).commit();
    await metering.persist();

    let metrics = await collect();
    expect(valueOf(metrics, 'meterkit.usage.recorded')).toBe(55);
    expect(valueOf(metrics, 'meterkit.records.pending')).toBe(4);
    expect(Math.round(valueOf(metrics, 'meterkit.pending.oldest_age')! / 60)).toBe(15); // the emulator's clock runs on from the time set

    await metering.flush(); // gb_processed is unknown to the emulator's product: rejected after a bisect
    metrics = await collect();
    expect(valueOf(metrics, 'meterkit.records.settled', { status: 'Success' })).toBe(2);
    expect(valueOf(metrics, 'meterkit.records.settled', { status: 'rejected' })).toBe(1);
    const calls = emu.inspect.calls('BatchMeterUsage');
    expect(valueOf(metrics, 'meterkit.aws.calls', { operation: 'BatchMeterUsage' })).toBe(calls.length);
    expect(valueOf(metrics, 'meterkit.aws.calls', { outcome: 'InvalidUsageDimensionException' })).toBe(calls.filter((c) => c.error === 'InvalidUsageDimensionException').length);
    expect(valueOf(metrics, 'meterkit.aws.calls', { outcome: 'success' })).toBe(calls.filter((c) => c.error === undefined).length);
    expect(valueOf(metrics, 'meterkit.aws.call.duration', { operation: 'BatchMeterUsage' })).toBe(calls.length);
    expect(valueOf(metrics, 'meterkit.records.pending')).toBe(1);
    expect(valueOf(metrics, 'meterkit.records.expired')).toBe(0);
    expect(Math.round(valueOf(metrics, 'meterkit.window.headroom')! / 60)).toBe((at('2026-07-16T11:00:00Z') - at('2026-07-15T11:15:00Z')) / 60_000);

    instrumentation.close();
    await metering.meter(customer).record('api_calls', 1000).commit();
    expect(valueOf(await collect(), 'meterkit.usage.recorded')).toBe(55);
  });

  it('health: ok, then degraded when sending fails for failingForMs, and when the oldest hour nears its deadline', async () => {
    const health = createHealthCheck(metering, { failingForMs: 10 * 60_000 });
    await metering.meter(customer).record('api_calls', 3).commit();
    await expect(health.check()).resolves.toEqual({ status: 'ok', reasons: [] });

    emu.clock.set(at('2026-07-15T11:15:00Z'));
    emu.faults.failNext('BatchMeterUsage', 'InternalServiceErrorException', 100);
    await metering.flush();
    await expect(health.check()).resolves.toEqual({ status: 'ok', reasons: [] });
    emu.clock.set(at('2026-07-15T11:30:00Z'));
    await metering.flush({ forceCustomerKeys: [] });
    const failing = await health.check();
    expect(failing.status).toBe('degraded');
    expect(failing.reasons.join(' ')).toMatch(/Sending to AWS has failed for 15 min \(last: InternalServiceErrorException\)/);

    emu.clock.set(at('2026-07-16T08:30:00Z'));
    const late = await health.check();
    expect(late.reasons.join(' ')).toMatch(/The hour 2026-07-15T10:00:00.000Z has 90 min left in AWS's window/);

    emu.faults.reset();
    const done = await metering.flush();
    expect(done.sent).toBe(1);
    await expect(health.check()).resolves.toEqual({ status: 'ok', reasons: [] });
    health.close();
  });
});
