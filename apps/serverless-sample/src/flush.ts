import { createFlushHandler, type MeteringOptions } from '@meterkit/core';
import { meteringOptions } from './config';

/** The scheduled flush with the sample's options, `overrides` applied (tests move the clock with them). */
export function createSampleFlushHandler(overrides: Partial<MeteringOptions> = {}, marginMs = 10_000) {
  return createFlushHandler(() => meteringOptions(overrides), { marginMs });
}

/**
 * Run by an EventBridge schedule (e.g. `rate(5 minutes)`): sends every closed hour within the invocation's time,
 * keeping 10 s to hand back what it could not send. Exactly one sender per hour, however many run at once.
 */
export const handler = createSampleFlushHandler();
