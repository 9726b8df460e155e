import type { IdentityMode, ProductConfig } from '@meterkit/core';
import type { EmulatorProduct } from '@meterkit/emulator';

/** The metered dimensions of both listings: every API call, and the rows an export produces. */
export const DIMENSIONS = ['api_calls', 'rows_exported'] as const;

/** The seats a contract buys: what `GET /v1/team` requires. */
export const SEATS = 'seats';
/** The contract dimension whose value is the monthly number of API calls included. */
export const INCLUDED_API_CALLS = 'api_calls';

/** What an operator may change about the listings (METERKIT_DIMENSIONS, METERKIT_IDENTITY). */
export interface ListingSettings {
  /** The subscription's metered dimensions: DIMENSIONS and any others of your listing. Default DIMENSIONS. */
  readonly dimensions?: readonly string[];
  /** How AWS names a buyer of either listing. Default 'license'. */
  readonly identity?: Exclude<IdentityMode, 'product'>;
}

/**
 * The listings the sample sells:
 * - `subscriptionCode`: a SaaS subscription, every API call and exported row metered;
 * - `contractCode` (optional): a SaaS contract with consumption: the buyer pays up front for seats and a monthly
 *   quota of API calls; only API calls above the quota are metered, exported rows are metered in full.
 */
export function sampleProducts(subscriptionCode: string, contractCode?: string, settings: ListingSettings = {}): ProductConfig[] {
  const identity = settings.identity ?? 'license';
  const subscription: ProductConfig = { productCode: subscriptionCode, dimensions: [...(settings.dimensions ?? DIMENSIONS)], identity };
  if (contractCode === undefined) return [subscription];
  return [
    subscription,
    {
      productCode: contractCode,
      pricing: 'contract-with-consumption',
      identity,
      dimensions: [...DIMENSIONS],
      entitlements: [SEATS, INCLUDED_API_CALLS],
      included: { api_calls: { entitlement: INCLUDED_API_CALLS, period: 'month' } },
    },
  ];
}

/** The same listings in the local emulator. */
export function emulatorProducts(subscriptionCode: string, contractCode?: string, settings: ListingSettings = {}): EmulatorProduct[] {
  const identity = settings.identity ?? 'license';
  const subscription: EmulatorProduct = { productCode: subscriptionCode, dimensions: [...(settings.dimensions ?? DIMENSIONS)], identity };
  if (contractCode === undefined) return [subscription];
  return [subscription, { productCode: contractCode, pricing: 'contract-with-consumption', identity, dimensions: [...DIMENSIONS], contractDimensions: [SEATS, INCLUDED_API_CALLS] }];
}
