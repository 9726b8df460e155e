import { BATCH_METER_USAGE_WINDOW, type WindowRules } from '../model/hours';
import { AwsLimits, HOUR_MS } from '../model/limits';
import type { IdentityMode } from '../model/product';

/**
 * MeterUsage accepts a record for 6 hours after its timestamp; there is no month-end cutoff. An hour keeps at
 * least 2 hours of retries, so the lock is at most 3 hours (docs/decisions.md).
 */
export const METER_USAGE_WINDOW: WindowRules = {
  windowMs: AwsLimits.meterUsageWindowMs,
  monthEndCutoffHours: Number.POSITIVE_INFINITY,
  retryHeadroomMs: 2 * HOUR_MS,
};

/** The submission window of an identity mode: MeterUsage's for products, BatchMeterUsage's for buyers. */
export function windowOf(identity: IdentityMode): WindowRules {
  return identity === 'product' ? METER_USAGE_WINDOW : BATCH_METER_USAGE_WINDOW;
}
