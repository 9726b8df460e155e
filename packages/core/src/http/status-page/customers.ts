import type { EntitlementSet } from '../../contracts/entitlement-set';
import type { CustomerRecord } from '../../model/customer';
import type { RecordState, StoredRecord } from '../../store/usage-store';
import { customerEntitlements, type StatusPageEntitlements } from './contracts';

export interface StateTotals {
  readonly records: number;
  readonly quantity: number;
}

/** One customer's records of one hour: not settled yet, accepted by AWS, and ended otherwise (refused, expired, duplicate). */
export interface CustomerHour {
  readonly pending: StateTotals;
  readonly sent: StateTotals;
  readonly failed: StateTotals;
}

export interface CustomerRow {
  /** The customer key records are stored under. */
  readonly key: string;
  readonly tenantId?: string;
  /** The license id (`l-…`) of a license customer. */
  readonly licenseId?: string;
  readonly customerIdentifier?: string;
  readonly accountId?: string;
  readonly productCode: string;
  /** The registry's status; `unregistered` for usage of a customer the registry does not hold (product-level usage, say). */
  readonly status: CustomerRecord['status'] | 'unregistered';
  /** The current UTC hour. */
  readonly currentHour: CustomerHour;
  /** The hour before it. */
  readonly previousHour: CustomerHour;
  /** A contract customer's entitlements and their last refresh, as stored. */
  readonly entitlements?: StatusPageEntitlements;
}

export interface CustomerPage {
  /** Customers in the registry, with usage in the current or previous hour, or with stored entitlements. */
  readonly total: number;
  /** 1-based. */
  readonly page: number;
  readonly pages: number;
  readonly perPage: number;
  /** This page's customers, by tenant id then key (customers without a tenant id last). */
  readonly rows: readonly CustomerRow[];
}

const PENDING: ReadonlySet<RecordState> = new Set(['open', 'pending', 'sending']);
const OK: ReadonlySet<RecordState> = new Set(['sent', 'dry-run']);

function emptyHour(): { pending: { records: number; quantity: number }; sent: { records: number; quantity: number }; failed: { records: number; quantity: number } } {
  return { pending: { records: 0, quantity: 0 }, sent: { records: 0, quantity: 0 }, failed: { records: 0, quantity: 0 } };
}

function licenseIdOf(arn: string): string {
  return /license[:/](l-[A-Za-z0-9]+)/.exec(arn)?.[1] ?? arn;
}

/**
 * The per-customer view: every customer of the registry, every customer with records in `currentHour` or the hour
 * before and every customer with an entitlement set, with their records' counts and units per outcome and their
 * entitlements, sorted and cut to page `page` of `perPage`.
 * Dry-run records count as sent (the page says which mode it runs in).
 */
export function customerPage(
  customers: readonly CustomerRecord[],
  records: readonly StoredRecord[],
  currentHour: number,
  previousHour: number,
  page: number,
  perPage: number,
  entitlementSets: readonly EntitlementSet[] = [],
): CustomerPage {
  const rows = new Map<string, { base: Omit<CustomerRow, 'currentHour' | 'previousHour'>; current: ReturnType<typeof emptyHour>; previous: ReturnType<typeof emptyHour> }>();
  const rowOf = (key: string, customer: CustomerRecord | undefined, record: StoredRecord | undefined, set?: EntitlementSet) => {
    let row = rows.get(key);
    if (row !== undefined) return row;
    const identity = customer?.identity ?? record?.customer ?? identityOfSet(set!);
    // A set's key carries no account: '' (identityOfSet) shows as none.
    const accountId = (identity.customerAwsAccountId || undefined) ?? customer?.customerAwsAccountId;
    const base = {
      key,
      ...(customer?.tenantId === undefined ? {} : { tenantId: customer.tenantId }),
      ...(identity.kind === 'license' ? { licenseId: licenseIdOf(identity.licenseArn) } : {}),
      ...(identity.kind === 'legacy' && identity.customerIdentifier !== undefined ? { customerIdentifier: identity.customerIdentifier } : {}),
      ...(accountId === undefined ? {} : { accountId }),
      productCode: identity.productCode,
      status: customer?.status ?? ('unregistered' as const),
    };
    row = { base, current: emptyHour(), previous: emptyHour() };
    rows.set(key, row);
    return row;
  };
  for (const customer of customers) rowOf(customer.key, customer, undefined);
  const sets = new Map(entitlementSets.map((set) => [set.customerKey, set]));
  for (const set of entitlementSets) rowOf(set.customerKey, undefined, undefined, set);
  for (const record of records) {
    if (record.hour !== currentHour && record.hour !== previousHour) continue;
    const row = rowOf(record.customerKey, undefined, record);
    const hour = record.hour === currentHour ? row.current : row.previous;
    const totals = PENDING.has(record.state) ? hour.pending : OK.has(record.state) ? hour.sent : hour.failed;
    totals.records += 1;
    totals.quantity += record.frozen?.quantity ?? record.quantity;
  }
  const sorted = [...rows.values()].sort(
    (a, b) =>
      (a.base.tenantId === undefined ? 1 : 0) - (b.base.tenantId === undefined ? 1 : 0) ||
      (a.base.tenantId ?? '').localeCompare(b.base.tenantId ?? '') ||
      (a.base.key < b.base.key ? -1 : a.base.key > b.base.key ? 1 : 0),
  );
  const pages = Math.max(1, Math.ceil(sorted.length / perPage));
  const shown = Math.min(Math.max(1, page), pages);
  return {
    total: sorted.length,
    page: shown,
    pages,
    perPage,
    rows: sorted.slice((shown - 1) * perPage, shown * perPage).map((row) => {
      const set = sets.get(row.base.key);
      return { ...row.base, currentHour: row.current, previousHour: row.previous, ...(set === undefined ? {} : { entitlements: customerEntitlements(set) }) };
    }),
  };
}

/** What a set's key tells of a customer the registry does not hold: its license ARN or legacy identifier. */
function identityOfSet(set: EntitlementSet): CustomerRecord['identity'] {
  const key = set.customerKey;
  if (key.startsWith('license:')) return { kind: 'license', licenseArn: key.slice('license:'.length), customerAwsAccountId: '', productCode: set.productCode };
  const legacy = /^legacy:[^:]*:customer:(.+)$/.exec(key);
  return { kind: 'legacy', productCode: set.productCode, ...(legacy === null ? {} : { customerIdentifier: legacy[1]! }) };
}
