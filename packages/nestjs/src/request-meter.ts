import type { RequestMeter } from '@meterkit/core';

const METER = Symbol.for('meterkit:request-meter');
type Metered = { [METER]?: RequestMeter };

/** The meter the module attached to this request (Express `req` or `FastifyRequest`), or null when it is not metered. */
export function meterOf(request: object): RequestMeter | null {
  return (request as Metered)[METER] ?? null;
}

export function attachMeter(request: object, meter: RequestMeter): void {
  (request as Metered)[METER] = meter;
}
