import type { RequireEntitlementOptions } from '@meterkit/core';

/** One `@RequireEntitlement()` declaration, as kept in the metadata. */
export interface RequiredEntitlement {
  readonly dimension: string;
  readonly options?: RequireEntitlementOptions;
}
