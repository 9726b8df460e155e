import { ErrorCodes } from '../errors';
import type { EntitlementView } from './entitlement-set';

/** What a route needs of a contract entitlement. */
export interface EntitlementRequirement {
  /** The entitlement dimension's API name. */
  readonly dimension: string;
  /**
   * For a numeric entitlement: the value must be at least this. Default: any positive value (and, for a dimension
   * whose usage above the entitlement is metered, not used up is not required: that usage is billed instead).
   */
  readonly atLeast?: number;
}

export type EntitlementCheckResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly status: 403;
      readonly headers: Readonly<Record<string, string>>;
      readonly body: { readonly error: { readonly code: string; readonly message: string } };
    };

const OK: EntitlementCheckResult = { ok: true };

function refuse(message: string): EntitlementCheckResult {
  return { ok: false, status: 403, headers: { 'cache-control': 'no-store' }, body: { error: { code: ErrorCodes.ENTITLEMENT_REQUIRED, message } } };
}

/**
 * The framework-neutral per-route check each adapter runs: `ok`, or the 403 answer to send. `view` is
 * `meter.entitlement(requirement.dimension)`; undefined when the request has no buyer.
 */
export function checkEntitlement(view: EntitlementView | undefined, requirement: EntitlementRequirement): EntitlementCheckResult {
  const { dimension, atLeast } = requirement;
  if (view === undefined) return refuse(`This route needs the ${dimension} entitlement of an AWS Marketplace contract; the request names no buyer.`);
  const { value } = view;
  if (value === undefined || value === false || value === '' || (typeof value === 'number' && value <= 0)) {
    return refuse(`Your AWS Marketplace contract does not include ${dimension}.`);
  }
  if (atLeast !== undefined && (typeof value !== 'number' || value < atLeast)) {
    return refuse(`This route needs ${dimension} of at least ${atLeast}; your AWS Marketplace contract includes ${String(value)}.`);
  }
  return OK;
}
