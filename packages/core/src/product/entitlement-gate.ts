import { ErrorCodes } from '../errors';
import type { EntitlementStatus } from './entitlement';

export type GateResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly status: 503;
      readonly headers: Readonly<Record<string, string>>;
      readonly body: { readonly error: { readonly code: string; readonly message: string } };
    };

export interface EntitlementGate {
  /** `ok` once RegisterUsage verified the entitlement; otherwise the 503 answer to send. */
  check(): GateResult;
}

/** Anything that reports an entitlement, such as a Metering instance. */
export interface EntitlementSource {
  entitlement(): EntitlementStatus;
}

const OK: GateResult = { ok: true };

/**
 * A framework-neutral gate that refuses traffic (503) until the container is entitled, and for good when
 * RegisterUsage refused it. Each adapter calls check() before its handlers (docs/products.md).
 */
export function entitlementGate(source: EntitlementSource): EntitlementGate {
  return {
    check(): GateResult {
      const status = source.entitlement();
      if (status.state === 'entitled') return OK;
      if (status.state === 'pending') {
        return {
          ok: false,
          status: 503,
          headers: { 'retry-after': '5', 'cache-control': 'no-store' },
          body: { error: { code: ErrorCodes.ENTITLEMENT_PENDING, message: 'This service is checking its AWS Marketplace entitlement; try again shortly.' } },
        };
      }
      return {
        ok: false,
        status: 503,
        headers: { 'cache-control': 'no-store' },
        body: { error: { code: status.error.code, message: status.error.message } },
      };
    },
  };
}
