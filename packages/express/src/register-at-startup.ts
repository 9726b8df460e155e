import { ErrorCodes, isMeterkitError, type Metering } from '@meterkit/core';

/**
 * Starts RegisterUsage without waiting for it. A refusal is kept in `metering.entitlement()` and emitted by the
 * core as an `error` event; only a missing `entitlement` option, which the core cannot report, is logged here.
 */
export function registerAtStartup(metering: Metering): void {
  metering.registerUsage().catch((error: unknown) => {
    if (isMeterkitError(error, ErrorCodes.OPTIONS)) console.error(`meterkit(express): entitlementGate.register: ${error.message}`);
  });
}
