import type { MarketplaceMeteringClient } from '@aws-sdk/client-marketplace-metering';
import { ErrorCodes, MeterkitError } from '../errors';
import type { MeteringEvents } from '../events';
import type { Metering } from '../metering';
import type { TelemetryBatchObservableResult, TelemetryMeter } from './meter-types';
import { resolveMeter } from './otel';
import { StatusSampler } from './status-sampler';

export interface InstrumentOptions {
  /** Default: the global MeterProvider's meter `@meterkit/core` (no-op when @opentelemetry/api is not installed). */
  readonly meter?: TelemetryMeter;
  /**
   * The client you gave createMetering (`aws: { client }`, e.g. from createMeteringClient()): each call is then
   * counted by outcome and timed. Without it, only the typed events are measured.
   */
  readonly client?: MarketplaceMeteringClient;
  /** The gauges read metering.status() at most this often, at collection time. Default 5000 ms. */
  readonly sampleIntervalMs?: number;
}

/** Stops the measurements (the instruments stay registered with the meter, reporting nothing new). */
export interface Instrumentation {
  /** False when no meter was given and @opentelemetry/api is not installed: nothing is measured. */
  readonly active: boolean;
  close(): void;
}

const MIDDLEWARE_NAME = 'meterkitCallMetrics';

/**
 * OpenTelemetry metrics of a Metering instance:
 * - `meterkit.usage.recorded` (counter, {unit}): units committed by request meters;
 * - `meterkit.records.settled` (counter, {record}, attribute `status`: Success, CustomerNotSubscribed, DuplicateRecord,
 *   rejected, expired): what AWS answered per record;
 * - `meterkit.aws.calls` (counter, attributes `operation`, `outcome`: success or the exception name) and
 *   `meterkit.aws.call.duration` (histogram, s), when `client` is given;
 * - observable gauges from metering.status(): `meterkit.records.pending`, `meterkit.pending.oldest_age` (s),
 *   `meterkit.window.headroom` (s), `meterkit.records.expired`.
 */
export function instrumentMetering(metering: Metering, options: InstrumentOptions = {}): Instrumentation {
  const interval = options.sampleIntervalMs ?? 5000;
  if (!Number.isInteger(interval) || interval < 0) throw new MeterkitError(ErrorCodes.OPTIONS, 'sampleIntervalMs must be an integer of 0 or more.');
  const meter = resolveMeter(options.meter);
  if (meter === undefined) return { active: false, close: () => undefined };

  const recorded = meter.createCounter('meterkit.usage.recorded', { description: 'Units committed by request meters', unit: '{unit}' });
  const settled = meter.createCounter('meterkit.records.settled', { description: 'Records AWS answered, by status', unit: '{record}' });
  const listeners: { [E in keyof MeteringEvents]?: (payload: MeteringEvents[E]) => void } = {
    recorded: (e) => recorded.add(e.quantity),
    sent: (e) => settled.add(e.records.length, { status: 'Success' }),
    notSubscribed: () => settled.add(1, { status: 'CustomerNotSubscribed' }),
    duplicate: () => settled.add(1, { status: 'DuplicateRecord' }),
    rejected: () => settled.add(1, { status: 'rejected' }),
    expired: () => settled.add(1, { status: 'expired' }),
  };
  for (const [event, listener] of Object.entries(listeners)) metering.on(event as 'sent', listener as (p: MeteringEvents['sent']) => void);

  const sampler = new StatusSampler(metering, interval);
  const gauges = {
    pending: meter.createObservableGauge('meterkit.records.pending', { description: 'Records not settled yet (open, pending, sending)', unit: '{record}' }),
    oldestAge: meter.createObservableGauge('meterkit.pending.oldest_age', { description: 'Time since the oldest unsettled hour closed', unit: 's' }),
    headroom: meter.createObservableGauge('meterkit.window.headroom', { description: "Time left in AWS's window for the oldest unsettled hour", unit: 's' }),
    expired: meter.createObservableGauge('meterkit.records.expired', { description: "Records that missed AWS's window", unit: '{record}' }),
  };
  const observe = async (result: TelemetryBatchObservableResult): Promise<void> => {
    const status = await sampler.sample();
    if (status === undefined) return;
    const c = status.counts;
    result.observe(gauges.pending, c.open + c.pending + c.sending);
    result.observe(gauges.expired, c.expired);
    result.observe(gauges.oldestAge, (status.oldestPendingAgeMs ?? 0) / 1000);
    if (status.oldestWindowLeftMs !== undefined) result.observe(gauges.headroom, status.oldestWindowLeftMs / 1000);
  };
  const observables = Object.values(gauges);
  meter.addBatchObservableCallback(observe, observables);

  const client = options.client;
  if (client !== undefined) {
    const calls = meter.createCounter('meterkit.aws.calls', { description: 'AWS Marketplace Metering calls by outcome', unit: '{call}' });
    const duration = meter.createHistogram('meterkit.aws.call.duration', { description: 'AWS Marketplace Metering call latency', unit: 's' });
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const started = performance.now();
        const operation = String(context.commandName ?? 'unknown').replace(/Command$/, '');
        let outcome = 'success';
        try {
          return await next(args);
        } catch (error) {
          outcome = (error as { name?: string }).name ?? 'Error';
          throw error;
        } finally {
          calls.add(1, { operation, outcome });
          duration.record((performance.now() - started) / 1000, { operation, outcome });
        }
      },
      { step: 'initialize', name: MIDDLEWARE_NAME, override: true },
    );
  }

  return {
    active: true,
    close: () => {
      for (const [event, listener] of Object.entries(listeners)) metering.off(event as 'sent', listener as (p: MeteringEvents['sent']) => void);
      meter.removeBatchObservableCallback(observe, observables);
      client?.middlewareStack.remove(MIDDLEWARE_NAME);
    },
  };
}
