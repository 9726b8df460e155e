import {
  includedAmount,
  isEntitlementStore,
  periodStart,
  readableTime,
  utcMinute,
  type AllowanceCounter,
  type CustomerRecord,
  type EntitlementSet,
  type EntitlementStore,
  type ProductConfig,
  type UsageStore,
} from '@meterkit/core';
import { iso } from '../hours';
import { printJson, UsageError, type Context } from '../io';
import { loadProducts } from '../products';
import { customerKeyOf, licenseIdOf } from '../records-view';
import { DEFAULT_WIDTH, table, type TableFit } from '../format/table';

export interface EntitlementsOptions {
  /** A customer key, a license ARN, a license id (`l-…`) or your app's tenant id. Default: every customer with a stored set. */
  readonly customer?: string;
  /** Values in full (license ARN, long string values). Default false: 120 columns. */
  readonly wide?: boolean;
  /**
   * The products JSON (`--products`, else env METERKIT_PRODUCTS): with each product's `included` periods, counters
   * are those of the current period. Default none: each dimension's newest counter.
   */
  readonly products?: string;
}

/** One dimension's entitlement, as the CLI reports it. */
export interface EntitlementLine {
  readonly dimension: string;
  readonly value: number | boolean | string;
  readonly valueType: string;
  readonly expiresAt?: string;
}

/**
 * An allowance counter of a dimension whose usage an entitlement includes (contracts with consumption): of the current
 * period when the product's `included` periods are known (`--products`), else the dimension's newest counter.
 */
export interface AllowanceLine {
  /** The entitlement dimension whose value includes units. */
  readonly dimension: string;
  /** Known from the products: the period each included amount covers; the counter is then the current period's. */
  readonly period?: 'hour' | 'month';
  /** Start of the counter's period (an hour or a month, as the product is configured), ISO 8601. */
  readonly periodStart: string;
  /** Every unit recorded in that period, included or not. */
  readonly used: number;
  /** The entitlement's numeric value now: what a period includes from now on (0 without a numeric entitlement). */
  readonly included: number;
  /** Units of that period still within the entitlement (never below 0). */
  readonly left: number;
}

export interface CustomerEntitlements {
  readonly customerKey: string;
  readonly productCode: string;
  readonly tenantId?: string;
  readonly licenseArn?: string;
  readonly customerIdentifier?: string;
  readonly customerAwsAccountId?: string;
  /** When GetEntitlements answered, ISO 8601. */
  readonly fetchedAt: string;
  /** What caused that read: registration, event:<id>, timer, expiry, manual. */
  readonly trigger: string;
  /** True when an end signal came with an empty read: the buyer has no entitlements. */
  readonly revoked: boolean;
  readonly entitlements: readonly EntitlementLine[];
  /** Per allowance dimension, the current period's counter (products known) or its newest counter. */
  readonly allowances: readonly AllowanceLine[];
}

export interface EntitlementsReport {
  readonly now: string;
  /** Customers with a stored set (revoked ones included). */
  readonly customers: number;
  readonly revoked: number;
  /** The newest and oldest fetchedAt of the listed sets, ISO 8601. */
  readonly newestRefreshAt?: string;
  readonly oldestRefreshAt?: string;
  readonly sets: readonly CustomerEntitlements[];
}

/** Every stored entitlement set (or one customer's), with the customer's tenant and account and its allowance counters. */
export async function entitlementsReport(store: UsageStore, now: number, customer?: string, products: readonly ProductConfig[] = []): Promise<EntitlementsReport> {
  if (!isEntitlementStore(store)) {
    throw new UsageError(`The ${store.kind} store does not keep entitlements: contract products need a store that implements EntitlementStore.`);
  }
  const customers = await store.listCustomers();
  let sets = await store.listEntitlements();
  if (customer !== undefined) {
    const key = matchCustomer(customer, customers, sets);
    sets = sets.filter((set) => set.customerKey === key);
  }
  const byKey = new Map(customers.map((c) => [c.key, c]));
  const lines: CustomerEntitlements[] = [];
  const periods = includedPeriods(products);
  for (const set of [...sets].sort(bySetOrder(byKey))) lines.push(await customerEntitlements(store, set, byKey.get(set.customerKey), periods.get(set.productCode), now));
  const fetched = sets.map((s) => s.fetchedAt);
  return {
    now: iso(now),
    customers: sets.length,
    revoked: sets.filter((s) => s.revoked === true).length,
    ...(fetched.length === 0 ? {} : { newestRefreshAt: iso(Math.max(...fetched)), oldestRefreshAt: iso(Math.min(...fetched)) }),
    sets: lines,
  };
}

/**
 * The customer key `--customer` names: a stored key, a license ARN, a license id or a tenant id. A value that
 * names no customer of the store is an error (an empty listing would read as "no entitlements").
 */
function matchCustomer(value: string, customers: readonly CustomerRecord[], sets: readonly EntitlementSet[]): string {
  const keys = new Set([...customers.map((c) => c.key), ...sets.map((s) => s.customerKey)]);
  const asKey = customerKeyOf(value);
  if (keys.has(asKey)) return asKey;
  const byLicenseId = [...keys].filter((key) => key.startsWith('license:') && licenseIdOf(key) === value);
  const byTenant = customers.filter((c) => c.tenantId === value).map((c) => c.key);
  const found = [...new Set([...byLicenseId, ...byTenant])];
  if (found.length === 1) return found[0]!;
  if (found.length > 1) throw new UsageError(`--customer ${JSON.stringify(value)} names ${found.length} customers: give the customer key or license ARN.`);
  throw new UsageError(`--customer ${JSON.stringify(value)} is no customer key, license ARN, license id or tenant id in this store.`);
}

/** By tenant id (customers without one last), then key: the status page's order. */
function bySetOrder(byKey: ReadonlyMap<string, CustomerRecord>): (a: EntitlementSet, b: EntitlementSet) => number {
  return (a, b) => {
    const ta = byKey.get(a.customerKey)?.tenantId;
    const tb = byKey.get(b.customerKey)?.tenantId;
    return (ta === undefined ? 1 : 0) - (tb === undefined ? 1 : 0) || (ta ?? '').localeCompare(tb ?? '') || (a.customerKey < b.customerKey ? -1 : a.customerKey > b.customerKey ? 1 : 0);
  };
}

/** Per product code, the period of each entitlement that includes metered usage (`included` of the products). */
function includedPeriods(products: readonly ProductConfig[]): Map<string, Map<string, 'hour' | 'month'>> {
  const periods = new Map<string, Map<string, 'hour' | 'month'>>();
  for (const product of products) {
    const byEntitlement = new Map<string, 'hour' | 'month'>();
    for (const [dimension, config] of Object.entries(product.included ?? {})) byEntitlement.set(config.entitlement ?? dimension, config.period ?? 'hour');
    // A product listed without `included` (a products file written for flush) leaves its counters to the fallback.
    if (byEntitlement.size > 0) periods.set(product.productCode, byEntitlement);
  }
  return periods;
}

async function customerEntitlements(
  store: EntitlementStore,
  set: EntitlementSet,
  customer: CustomerRecord | undefined,
  periods: ReadonlyMap<string, 'hour' | 'month'> | undefined,
  now: number,
): Promise<CustomerEntitlements> {
  const identity = customer?.identity;
  const licenseArn = identity?.kind === 'license' ? identity.licenseArn : set.customerKey.startsWith('license:') ? set.customerKey.slice('license:'.length) : undefined;
  const account = identity?.customerAwsAccountId ?? customer?.customerAwsAccountId;
  return {
    customerKey: set.customerKey,
    productCode: set.productCode,
    ...(customer?.tenantId === undefined ? {} : { tenantId: customer.tenantId }),
    ...(licenseArn === undefined ? {} : { licenseArn }),
    ...(identity?.kind === 'legacy' && identity.customerIdentifier !== undefined ? { customerIdentifier: identity.customerIdentifier } : {}),
    ...(account === undefined ? {} : { customerAwsAccountId: account }),
    fetchedAt: iso(set.fetchedAt),
    trigger: set.trigger,
    revoked: set.revoked === true,
    entitlements: set.entitlements.map((e) => ({
      dimension: e.dimension,
      value: e.value,
      valueType: e.valueType,
      ...(e.expiresAt === undefined ? {} : { expiresAt: iso(e.expiresAt) }),
    })),
    allowances: allowanceLines(set, await store.listAllowanceCounters(set.customerKey), periods, now),
  };
}

function allowanceLines(set: EntitlementSet, counters: readonly AllowanceCounter[], periods: ReadonlyMap<string, 'hour' | 'month'> | undefined, now: number): AllowanceLine[] {
  const line = (dimension: string, start: number, used: number, period?: 'hour' | 'month'): AllowanceLine => {
    const included = includedAmount(set, dimension);
    return { dimension, ...(period === undefined ? {} : { period }), periodStart: iso(start), used, included, left: Math.max(0, included - used) };
  };
  if (periods === undefined) return newestPerDimension(counters).map((c) => line(c.allowanceDimension, c.periodStart, c.used));
  return [...periods].map(([dimension, period]) => {
    const start = periodStart(period, now);
    return line(dimension, start, counters.find((c) => c.allowanceDimension === dimension && c.periodStart === start)?.used ?? 0, period);
  });
}

function newestPerDimension(counters: readonly AllowanceCounter[]): AllowanceCounter[] {
  const newest = new Map<string, AllowanceCounter>();
  for (const counter of counters) {
    const seen = newest.get(counter.allowanceDimension);
    if (seen === undefined || counter.periodStart > seen.periodStart) newest.set(counter.allowanceDimension, counter);
  }
  return [...newest.values()];
}

const HEADERS = ['dimension', 'value', 'expires', 'period from', 'used', 'left'];
/** Long dimension names and string values give way first; times and counts are never cut. */
const FIT: TableFit = { width: DEFAULT_WIDTH - 2, shrink: [{ column: 1, min: 12 }, { column: 0, min: 16 }] };

export async function entitlementsCommand(context: Context, store: UsageStore, options: EntitlementsOptions): Promise<void> {
  const now = context.now();
  const products = options.products !== undefined || context.env['METERKIT_PRODUCTS'] !== undefined ? loadProducts(context, options.products) : [];
  const report = await entitlementsReport(store, now, options.customer, products);
  if (context.json) return printJson(context, report);
  if (report.sets.length === 0) {
    context.io.stdout('No entitlements stored: contract products read them from AWS when a buyer registers (see docs/contracts.md).\n');
    return;
  }
  const wide = options.wide === true;
  const out: string[] = [
    `Contract customers: ${report.customers}${report.revoked > 0 ? ` (${report.revoked} revoked)` : ''}    now: ${utcMinute(now)}`,
    `Newest refresh: ${readableTime(report.newestRefreshAt!, now)}    oldest: ${readableTime(report.oldestRefreshAt!, now)}`,
  ];
  for (const set of report.sets) {
    out.push('', customerHeading(set, wide));
    out.push(`  refreshed ${readableTime(set.fetchedAt, now)} by ${set.trigger}${set.revoked ? ' · REVOKED: the contract ended' : ''}`);
    const rows = entitlementRows(set, now);
    if (rows.length === 0) {
      out.push(set.revoked ? '  (no entitlements)' : '  (no entitlements in the last read)');
      continue;
    }
    // Without allowance counters (a contract without consumption, or nothing used yet) the counter columns stay out.
    const headers = set.allowances.length === 0 ? HEADERS.slice(0, 3) : HEADERS;
    const cells = rows.map((row) => row.slice(0, headers.length));
    const text = wide ? table(headers, cells) : table(headers, cells, FIT);
    out.push(text.trimEnd().replace(/^/gm, '  '));
  }
  context.io.stdout(`${out.join('\n')}\n`);
}

/** `tenant-a  l-0123…  account 123456789012  prod-abc`: who the set belongs to, in one line. */
function customerHeading(set: CustomerEntitlements, wide: boolean): string {
  const who = set.licenseArn !== undefined ? (wide ? set.licenseArn : licenseIdOf(set.licenseArn)) : set.customerIdentifier ?? set.customerKey;
  return [set.tenantId ?? '(no tenant)', who, set.customerAwsAccountId === undefined ? undefined : `account ${set.customerAwsAccountId}`, set.productCode]
    .filter((part) => part !== undefined)
    .join('  ');
}

/** One row per entitled dimension, its allowance counter beside it; counters of a dimension no longer held follow. */
function entitlementRows(set: CustomerEntitlements, now: number): Array<Array<string | number>> {
  const counters = new Map(set.allowances.map((a) => [a.dimension, a]));
  const counterCells = (a: AllowanceLine | undefined): Array<string | number> => (a === undefined ? ['', '', ''] : [utcMinute(a.periodStart), a.used, a.left]);
  const rows = set.entitlements.map((e) => [e.dimension, String(e.value), e.expiresAt === undefined ? '' : readableTime(e.expiresAt, now), ...counterCells(counters.get(e.dimension))]);
  const held = new Set(set.entitlements.map((e) => e.dimension));
  for (const a of set.allowances) if (!held.has(a.dimension)) rows.push([a.dimension, '—', '', ...counterCells(a)]);
  return rows;
}
