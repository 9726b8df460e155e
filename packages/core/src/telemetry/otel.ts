import type { Meter } from '@opentelemetry/api';

/** @opentelemetry/api is an optional peer: loaded when installed, undefined otherwise. */
export function loadOpenTelemetry(): typeof import('@opentelemetry/api') | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('@opentelemetry/api') as typeof import('@opentelemetry/api');
  } catch {
    return undefined;
  }
}

/** The meter given, else the global MeterProvider's `@meterkit/core` meter, else none. */
export function resolveMeter(meter: Meter | undefined): Meter | undefined {
  return meter ?? loadOpenTelemetry()?.metrics.getMeter('@meterkit/core');
}
