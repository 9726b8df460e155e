import type { CustomerIdentity } from './customer';

/** Allocation tags of one allocation: at most 5 keys. */
export type Tags = Readonly<Record<string, string>>;

/** An amount of usage to add to one aggregate (customer, dimension, hour, tag set). */
export interface UsageDelta {
  readonly customer: CustomerIdentity;
  /** customerKey(customer) */
  readonly customerKey: string;
  readonly productCode: string;
  readonly dimension: string;
  /** Start of the UTC hour, ms epoch. */
  readonly hour: number;
  /** '' for untagged usage; otherwise the canonical tagsKey(tags). */
  readonly tagsKey: string;
  readonly tags?: Tags;
  readonly quantity: number;
}

/** One allocation of a frozen record as it will be sent. */
export interface Allocation {
  readonly tags?: Tags;
  readonly quantity: number;
}

/** The exact content sent for one record: fixed before the first send, identical on every retry. */
export interface FrozenUsage {
  readonly quantity: number;
  /** Empty when the record has only untagged usage (sent without UsageAllocations). */
  readonly allocations: readonly Allocation[];
}

/** A finalized hourly total computed by the seller, handed in with setTotal(). */
export interface FinalTotal {
  readonly customer: CustomerIdentity;
  readonly customerKey: string;
  readonly productCode: string;
  readonly dimension: string;
  readonly hour: number;
  readonly usage: FrozenUsage;
}

/** Canonical key of a tag set: keys sorted, NUL-separated; '' for no tags. */
export function tagsKey(tags: Tags | undefined): string {
  if (tags === undefined) return '';
  const keys = Object.keys(tags).sort();
  let key = '';
  for (const k of keys) key += `${key === '' ? '' : '\u0000'}${k}\u0000${tags[k]}`;
  return key;
}
