/** Whether a buyer may still be metered for usage at `t`, asked at `now`. */
import type { Buyer } from '../state/buyers';
import { hourStart } from '../rules/windows';

/**
 * Active buyers: yes. Failed or unknown (legacy account mode): no (CustomerNotSubscribed).
 * Deprovisioned: only within the final-usage window after deprovisioning, and only for hours up to the
 * hour in which the license was deprovisioned.
 */
export function isUsable(buyer: Buyer | undefined, t: number, now: number, finalUsageWindowMs: number): boolean {
  if (!buyer || buyer.status === 'failed') return false;
  if (buyer.status === 'active') return true;
  const at = buyer.deprovisionedAt as number;
  return now < at + finalUsageWindowMs && hourStart(t) <= hourStart(at);
}
