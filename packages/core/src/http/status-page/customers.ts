import type { CustomerRecord } from '../../model/customer';
import type { RecordState, StoredRecord } from '../../store/usage-store';

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
}

export interface CustomerPage {
  /** Customers in the registry or with usage in the current or previous hour. */
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
 * The per-customer view: every customer of the registry and every customer with records in `currentHour` or the hour
 * before, with their records' counts and units per outcome, sorted and cut to page `page` of `perPage`.
 * Dry-run records count as sent (the page says which mode it runs in).
 */
export function customerPage(
  customers: readonly CustomerRecord[],
  records: readonly StoredRecord[],
  currentHour: number,
  previousHour: number,
  page: number,
  perPage: number,
): CustomerPage {
  const rows = new Map<string, { base: Omit<CustomerRow, 'currentHour' | 'previousHour'>; current: ReturnType<typeof emptyHour>; previous: ReturnType<typeof emptyHour> }>();
  const rowOf = (key: string, customer: CustomerRecord | undefined, record: StoredRecord | undefined) => {
    let row = rows.get(key);
    if (row !== undefined) return row;
    const identity = customer?.identity ?? record!.customer;
    const base = {
      key,
      ...(customer?.tenantId === undefined ? {} : { tenantId: customer.tenantId }),
      ...(identity.kind === 'license' ? { licenseId: licenseIdOf(identity.licenseArn) } : {}),
      ...(identity.kind === 'legacy' && identity.customerIdentifier !== undefined ? { customerIdentifier: identity.customerIdentifier } : {}),
      ...((identity.customerAwsAccountId ?? customer?.customerAwsAccountId) === undefined ? {} : { accountId: (identity.customerAwsAccountId ?? customer?.customerAwsAccountId)! }),
      productCode: identity.productCode,
      status: customer?.status ?? ('unregistered' as const),
    };
    row = { base, current: emptyHour(), previous: emptyHour() };
    rows.set(key, row);
    return row;
  };
  for (const customer of customers) rowOf(customer.key, customer, undefined);
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
    rows: sorted.slice((shown - 1) * perPage, shown * perPage).map((row) => ({ ...row.base, currentHour: row.current, previousHour: row.previous })),
  };
}
