import type { OpenTelemetryApi, TelemetryMeter } from './meter-types';

/** @opentelemetry/api is an optional peer: loaded when installed, undefined otherwise. */
export function loadOpenTelemetry(): OpenTelemetryApi | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('@opentelemetry/api') as OpenTelemetryApi;
  } catch {
    return undefined;
  }
}

/** The meter given, else the global MeterProvider's `@meterkit/core` meter, else none. */
export function resolveMeter(meter: TelemetryMeter | undefined): TelemetryMeter | undefined {
  return meter ?? loadOpenTelemetry()?.metrics.getMeter('@meterkit/core');
}
