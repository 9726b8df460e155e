import { checkEntitlement, type EntitlementCheckResult, type EntitlementRequirement } from '../contracts/entitlement-check';
import type { EntitlementView } from '../contracts/entitlement-set';
import { ErrorCodes, MeterkitError } from '../errors';
import type { RequestMeter } from '../meter/request-meter';
import type { Metering } from '../metering';

/** What a route asks of the entitlement beyond holding it. */
export interface RequireEntitlementOptions {
  /** For a numeric entitlement: the value must be at least this (a finite number). Default: any positive value. */
  readonly atLeast?: number;
}

/** The answer of a per-route entitlement check: ok, the core's 403, or 503 when the buyer's entitlements cannot be read. */
export type RouteEntitlementResult =
  | EntitlementCheckResult
  | {
      readonly ok: false;
      readonly status: 503;
      readonly headers: Readonly<Record<string, string>>;
      readonly body: { readonly error: { readonly code: string; readonly message: string } };
    };

/**
 * Validates a route's entitlement requirement once, when the route is declared (`where` names it in errors): a bad
 * shape is ERR_METERKIT_OPTIONS; a dimension no configured contract product lists in `entitlements` is
 * ERR_METERKIT_UNKNOWN_DIMENSION, so the app fails to start instead of refusing every buyer.
 */
export function resolveEntitlementRequirement(metering: Metering, dimension: unknown, options: RequireEntitlementOptions | undefined, where: string): EntitlementRequirement {
  if (typeof dimension !== 'string' || dimension.length === 0) {
    throw new MeterkitError(ErrorCodes.OPTIONS, `${where}: the entitlement must be a contract dimension's API name, got ${JSON.stringify(dimension)}.`);
  }
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new MeterkitError(ErrorCodes.OPTIONS, `${where}: options must be { atLeast? }.`);
  }
  const atLeast = options?.atLeast;
  if (atLeast !== undefined && (typeof atLeast !== 'number' || !Number.isFinite(atLeast))) {
    throw new MeterkitError(ErrorCodes.OPTIONS, `${where}: atLeast must be a finite number, got ${JSON.stringify(atLeast)}.`);
  }
  if (!metering.hasEntitlement(dimension)) {
    throw new MeterkitError(
      ErrorCodes.UNKNOWN_DIMENSION,
      `${where}: ${JSON.stringify(dimension)} is not an entitlement of any configured contract product; list it in the product's \`entitlements\` (the contract dimension API names, case-sensitive).`,
    );
  }
  return atLeast === undefined ? { dimension } : { dimension, atLeast };
}

const UNAVAILABLE: RouteEntitlementResult = {
  ok: false,
  status: 503,
  headers: { 'cache-control': 'no-store' },
  body: { error: { code: ErrorCodes.STORE, message: 'Your AWS Marketplace entitlements cannot be checked right now; please try again shortly.' } },
};

/** The buyer's view of `dimension`, or a view of nothing when the buyer's product does not have it. */
function viewOf(meter: RequestMeter, dimension: string): EntitlementView {
  try {
    return meter.entitlement(dimension);
  } catch (error) {
    // A subscription buyer, or a contract product without this dimension (another product has it): not entitled.
    if (error instanceof MeterkitError && (error.code === ErrorCodes.NOT_A_CONTRACT || error.code === ErrorCodes.UNKNOWN_DIMENSION)) {
      return { dimension, value: undefined, within: false };
    }
    throw error;
  }
}

/**
 * The per-route entitlement check every adapter runs once the request's meter is bound: `checkEntitlement()` of the
 * buyer's entitlement, so a buyer without it (or below `atLeast`) and a request naming no metered buyer (none
 * identified, unknown or inactive) get the 403 ERR_METERKIT_ENTITLEMENT_REQUIRED; a request whose buyer could not be
 * looked up because the store failed gets 503 ERR_METERKIT_STORE, since its entitlements are unknown, not absent.
 */
export function checkRouteEntitlement(
  meter: RequestMeter | null | undefined,
  meteringError: MeterkitError | null | undefined,
  requirement: EntitlementRequirement,
): RouteEntitlementResult {
  if (meter === null || meter === undefined) {
    if (meteringError?.code === ErrorCodes.STORE) return UNAVAILABLE;
    return checkEntitlement(undefined, requirement);
  }
  return checkEntitlement(viewOf(meter, requirement.dimension), requirement);
}
