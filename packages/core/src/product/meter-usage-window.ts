import type { DueRules, WindowRules } from '../model/hours';
import { AwsLimits } from '../model/limits';

/** MeterUsage accepts a record for 6 hours after its timestamp; there is no month-end cutoff. */
export const METER_USAGE_WINDOW: WindowRules = {
  windowMs: AwsLimits.meterUsageWindowMs,
  monthEndCutoffHours: Number.POSITIVE_INFINITY,
};

/** The flusher's due rules with MeterUsage's window in place of BatchMeterUsage's. */
export function meterUsageRules(rules: DueRules): DueRules {
  return { ...rules, ...METER_USAGE_WINDOW };
}
