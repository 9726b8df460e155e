/** Contract terms: what a buyer may buy, how values are typed on the wire, and what an amendment may change. */
import type { ContractDimensions, ContractOptions, EmulatorProduct } from '../types';

export type EntitlementValue = { IntegerValue: number } | { DoubleValue: number } | { BooleanValue: boolean } | { StringValue: string };

export interface ContractTerms {
  dimensions: ContractDimensions;
  durationMonths: number;
  autoRenew: boolean;
}

/** Exactly one member, as GetEntitlements answers: integers → IntegerValue, other numbers → DoubleValue. */
export function entitlementValue(v: number | boolean | string): EntitlementValue {
  if (typeof v === 'boolean') return { BooleanValue: v };
  if (typeof v === 'string') return { StringValue: v };
  return Number.isInteger(v) ? { IntegerValue: v } : { DoubleValue: v };
}

/** The Agreement API's `dimensionValue` is a number: quantities as they are, booleans 1/0, a chosen tier 1. */
export function dimensionQuantity(v: number | boolean | string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return 1;
}

function checkDimensions(product: Required<EmulatorProduct>, dims: unknown, what: string): ContractDimensions {
  if (dims === null || typeof dims !== 'object' || Array.isArray(dims)) throw new TypeError(`${what}: dimensions must be an object of dimension → value`);
  const out: ContractDimensions = {};
  for (const [name, value] of Object.entries(dims as Record<string, unknown>)) {
    if (!product.contractDimensions.includes(name))
      throw new TypeError(`${what}: '${name}' is not a contract dimension of ${product.productCode} (${product.contractDimensions.join(', ')})`);
    if (typeof value === 'number') {
      if (!Number.isFinite(value) || value < 0) throw new TypeError(`${what}: ${name} must be a non-negative number, got ${value}`);
    } else if (typeof value !== 'boolean' && (typeof value !== 'string' || value === '')) {
      throw new TypeError(`${what}: ${name} must be a number, a boolean or a non-empty string`);
    }
    out[name] = value as number | boolean | string;
  }
  return out;
}

/** Validates a new contract against its product. */
export function contractTerms(product: Required<EmulatorProduct>, o: ContractOptions): ContractTerms {
  const what = `Contract for ${product.productCode}`;
  if (o === null || typeof o !== 'object') throw new TypeError(`${what}: expected { dimensions, durationMonths?, autoRenew? }`);
  const dimensions = checkDimensions(product, o.dimensions, what);
  if (Object.keys(dimensions).length === 0) throw new TypeError(`${what}: at least one contract dimension is required`);
  const durationMonths = o.durationMonths ?? 12;
  if (!Number.isInteger(durationMonths) || durationMonths < 1 || durationMonths > 60)
    throw new TypeError(`${what}: durationMonths must be an integer from 1 to 60, got ${String(durationMonths)}`);
  if (o.autoRenew !== undefined && typeof o.autoRenew !== 'boolean') throw new TypeError(`${what}: autoRenew must be a boolean`);
  return { dimensions, durationMonths, autoRenew: o.autoRenew ?? false };
}

/**
 * An amendment mid-term: values may only go up (a quantity may not shrink, a granted boolean may not be withdrawn,
 * a value may not change type); a tier (string) may change; dimensions not named are kept, new ones are added.
 */
export function amendedDimensions(product: Required<EmulatorProduct>, current: ContractDimensions, changes: unknown): ContractDimensions {
  const what = `Amendment of a ${product.productCode} contract`;
  const next = checkDimensions(product, changes, what);
  for (const [name, value] of Object.entries(next)) {
    const was = current[name];
    if (was === undefined) continue;
    if (typeof was !== typeof value) throw new TypeError(`${what}: ${name} was ${typeof was} ${String(was)}, cannot become ${typeof value}`);
    if ((typeof was === 'number' && (value as number) < was) || (was === true && value === false))
      throw new TypeError(`${what}: ${name} cannot go down from ${String(was)} to ${String(value)} during the term (only at renewal)`);
  }
  return { ...current, ...next };
}

/** Renewal with new values: any values of the product's contract dimensions. */
export function renewedDimensions(product: Required<EmulatorProduct>, dims: unknown): ContractDimensions {
  const out = checkDimensions(product, dims, `Renewal of a ${product.productCode} contract`);
  if (Object.keys(out).length === 0) throw new TypeError(`Renewal of a ${product.productCode} contract: at least one contract dimension is required`);
  return out;
}

/** `t` plus whole calendar months (UTC), truncated to whole seconds (ExpirationDate travels in epoch seconds). */
export function addMonths(t: number, months: number): number {
  const d = new Date(t);
  const target = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1);
  const last = new Date(Date.UTC(new Date(target).getUTCFullYear(), new Date(target).getUTCMonth() + 1, 0)).getUTCDate();
  const day = Math.min(d.getUTCDate(), last);
  const ms = Date.UTC(new Date(target).getUTCFullYear(), new Date(target).getUTCMonth(), day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds());
  return Math.floor(ms / 1000) * 1000;
}
