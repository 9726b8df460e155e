/** GetEntitlements settings: defaults and the one validation every entry point (options, admin, CLI) goes through. */
import type { EntitlementSettings } from '../types';

export const DEFAULT_ENTITLEMENT_SETTINGS: EntitlementSettings = { pageSize: 25, emptyPages: false, lagMs: 0, throttlePerSecond: 20 };

/** AWS's MaxResults upper bound for GetEntitlements. */
export const MAX_ENTITLEMENT_PAGE = 25;

export function entitlementSettings(base: EntitlementSettings, changes: Partial<EntitlementSettings> | undefined): EntitlementSettings {
  const out = { ...base };
  for (const [k, v] of Object.entries(changes ?? {})) {
    if (v === undefined) continue;
    switch (k) {
      case 'pageSize':
        if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > MAX_ENTITLEMENT_PAGE)
          throw new TypeError(`entitlements.pageSize must be an integer from 1 to ${MAX_ENTITLEMENT_PAGE}, got ${String(v)}`);
        out.pageSize = v as number;
        break;
      case 'emptyPages':
        if (typeof v !== 'boolean') throw new TypeError(`entitlements.emptyPages must be a boolean, got ${String(v)}`);
        out.emptyPages = v;
        break;
      case 'lagMs':
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new TypeError(`entitlements.lagMs must be a non-negative number, got ${String(v)}`);
        out.lagMs = v;
        break;
      case 'throttlePerSecond':
        if (!Number.isInteger(v) || (v as number) < 1) throw new TypeError(`entitlements.throttlePerSecond must be a positive integer, got ${String(v)}`);
        out.throttlePerSecond = v as number;
        break;
      default:
        throw new TypeError(`entitlements: unknown setting '${k}' (pageSize, emptyPages, lagMs, throttlePerSecond)`);
    }
  }
  return out;
}
