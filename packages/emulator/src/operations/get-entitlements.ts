/**
 * GetEntitlements (AWSMPEntitlementService, AWS JSON 1.1): validation → InvalidParameterException, filters (union within
 * a key, intersection across keys), output per identity mode, pages with an opaque NextToken, the configured lag.
 */
import { entitlementValue } from '../contracts/contract-terms';
import { MAX_ENTITLEMENT_PAGE } from '../contracts/entitlement-settings';
import { pageBinding, type PagePosition } from '../contracts/entitlement-pages';
import { AwsError } from '../rules/errors';
import { asObject, optInteger, optString } from '../rules/model-constraints';
import type { CallContext, EmulatorState, OperationResult } from '../state/emulator-state';

export const FILTER_KEYS = ['CUSTOMER_AWS_ACCOUNT_ID', 'CUSTOMER_IDENTIFIER', 'DIMENSION', 'LICENSE_ARN'] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];

export interface WireEntitlement {
  ProductCode: string;
  Dimension: string;
  CustomerIdentifier?: string;
  CustomerAWSAccountId: string;
  LicenseArn?: string;
  Value: ReturnType<typeof entitlementValue>;
  /** Epoch seconds. */
  ExpirationDate: number;
}

const FIELD: Record<FilterKey, keyof WireEntitlement> = {
  CUSTOMER_AWS_ACCOUNT_ID: 'CustomerAWSAccountId',
  CUSTOMER_IDENTIFIER: 'CustomerIdentifier',
  DIMENSION: 'Dimension',
  LICENSE_ARN: 'LicenseArn',
};

const invalid = (message: string) => new AwsError('InvalidParameterException', message);

function parseFilter(raw: unknown): Record<string, string[]> {
  if (raw === undefined || raw === null) return {};
  const o = asObject(raw, 'Filter');
  const out: Record<string, string[]> = {};
  for (const [key, values] of Object.entries(o)) {
    if (!(FILTER_KEYS as readonly string[]).includes(key)) throw invalid(`Filter key ${key} is not valid: use ${FILTER_KEYS.join(', ')}`);
    if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) throw new AwsError('SerializationException', `Expected a list of strings at 'Filter.${key}'`);
    if (values.length === 0) throw invalid(`Filter ${key} must have at least one value`);
    out[key] = values as string[];
  }
  if (out.CUSTOMER_IDENTIFIER && out.CUSTOMER_AWS_ACCOUNT_ID)
    throw invalid('Filter keys CUSTOMER_IDENTIFIER and CUSTOMER_AWS_ACCOUNT_ID cannot be used in the same request');
  return out;
}

/** Every entitlement of a product GetEntitlements shows at `now`, in contract order, then dimension order. */
export function visibleEntitlements(state: EmulatorState, productCode: string, now: number): WireEntitlement[] {
  const product = state.products.get(productCode);
  if (!product) return [];
  const out: WireEntitlement[] = [];
  for (const c of state.contracts.ofProduct(productCode)) {
    const v = state.contracts.visible(c, now);
    if (!v?.dimensions) continue;
    const b = c.buyer;
    for (const [dimension, value] of Object.entries(v.dimensions)) {
      out.push({
        ProductCode: productCode,
        Dimension: dimension,
        ...(product.identity === 'legacy' && b.customerIdentifier !== undefined ? { CustomerIdentifier: b.customerIdentifier } : {}),
        CustomerAWSAccountId: b.accountId,
        ...(b.licenseArn !== undefined ? { LicenseArn: b.licenseArn } : {}),
        Value: entitlementValue(value),
        ExpirationDate: v.expiresAt / 1000,
      });
    }
  }
  return out;
}

export function matchesFilter(e: WireEntitlement, filter: Record<string, string[]>): boolean {
  return Object.entries(filter).every(([key, values]) => {
    const field = e[FIELD[key as FilterKey]];
    return typeof field === 'string' && values.includes(field);
  });
}

export function getEntitlements(input: unknown, state: EmulatorState, ctx: CallContext): OperationResult {
  const o = asObject(input, '');
  const productCode = optString(o, 'ProductCode', '');
  const nextToken = optString(o, 'NextToken', '');
  const maxResults = optInteger(o, 'MaxResults', '');
  if (productCode === undefined || productCode === '') throw invalid('ProductCode is required');
  if (productCode.length > 255) throw invalid('ProductCode must be at most 255 characters');
  const filter = parseFilter(o.Filter);
  if (maxResults !== undefined && (maxResults < 1 || maxResults > MAX_ENTITLEMENT_PAGE))
    throw invalid(`MaxResults must be from 1 to ${MAX_ENTITLEMENT_PAGE}, got ${maxResults}`);
  const binding = pageBinding(productCode, filter);
  let at: PagePosition = { offset: 0, emptyServed: false };
  if (nextToken !== undefined) {
    if (!/^\S+$/.test(nextToken)) throw invalid('NextToken is not valid');
    const read = state.entitlementPages.read(nextToken, binding);
    if (read === 'invalid') throw invalid('NextToken is not valid');
    if (read === 'mismatch') throw invalid('NextToken was issued for another ProductCode or Filter');
    at = read;
  }

  const settings = state.entitlementSettings;
  if (settings.emptyPages && !at.emptyServed)
    return { output: { Entitlements: [], NextToken: state.entitlementPages.issue(binding, { offset: at.offset, emptyServed: true }) } };
  const all = visibleEntitlements(state, productCode, ctx.now).filter((e) => matchesFilter(e, filter));
  const size = maxResults ?? settings.pageSize;
  const page = all.slice(at.offset, at.offset + size);
  const next = at.offset + size;
  return {
    output: {
      Entitlements: page,
      ...(next < all.length ? { NextToken: state.entitlementPages.issue(binding, { offset: next, emptyServed: false }) } : {}),
    },
  };
}
