/**
 * Legacy buyers named by AWS account id. ResolveCustomer returns a legacy buyer's CustomerIdentifier together with
 * its account id; meterkit keeps the account on the customer and meters usage named by that account id as the
 * identifier, so one buyer-hour is never sent under both names (AWS does not say they are one customer; sending
 * both risks billing the buyer twice). An account id the registry does not hold is refused: it could belong to a
 * buyer registered by identifier (docs/decisions.md).
 */
import { ErrorCodes, MeterkitError } from '../errors';
import { mask } from '../logger';
import { customerKey, type CustomerIdentity, type CustomerRecord, type LegacyIdentity } from '../model/customer';
import { ACCOUNT_ID_PATTERN } from '../model/limits';
import { customerPages } from '../store/customer-pages';
import type { UsageStore } from '../store/usage-store';

/** A legacy identity named by account id (no CustomerIdentifier). */
export function isLegacyAccount(identity: CustomerIdentity): identity is LegacyIdentity & { readonly customerAwsAccountId: string } {
  return identity.kind === 'legacy' && identity.customerIdentifier === undefined;
}

/** What a registration stores besides the identity: the account id of a legacy buyer registered by identifier. */
export function registeredAccount(identity: CustomerIdentity, returnedAccountId: string | undefined): Pick<CustomerRecord, 'customerAwsAccountId'> {
  if (identity.kind !== 'legacy' || identity.customerIdentifier === undefined) return {};
  if (returnedAccountId === undefined || !ACCOUNT_ID_PATTERN.test(returnedAccountId)) return {};
  return { customerAwsAccountId: returnedAccountId };
}

function accountKey(productCode: string, accountId: string): string {
  return `${productCode}\u0000${accountId}`;
}

/** Which registered customer each legacy account id names, read from the registry and kept up to date. */
export class LegacyAccounts {
  /** Product and account id → the identity its usage is metered as (the identifier's, or the account's own). */
  private readonly known = new Map<string, CustomerIdentity>();
  private reading: Promise<void> | undefined;
  private stale = true;

  constructor(
    private readonly store: () => Promise<UsageStore>,
    /** An account id that was its own customer now names an identifier's: drop what was cached under its key. */
    private readonly changed: (accountCustomerKey: string) => void,
  ) {}

  /** Learns from a registry record (a registration, a putCustomer, a registry read). */
  learn(record: Pick<CustomerRecord, 'identity' | 'customerAwsAccountId'>): void {
    const identity = record.identity;
    if (identity.kind !== 'legacy') return;
    if (identity.customerIdentifier === undefined) {
      // Registered by account id: its own customer, unless an identifier already claims the account.
      const key = accountKey(identity.productCode, identity.customerAwsAccountId as string);
      if (!this.known.has(key)) this.known.set(key, identity);
      return;
    }
    if (record.customerAwsAccountId === undefined) return;
    const key = accountKey(identity.productCode, record.customerAwsAccountId);
    const before = this.known.get(key);
    this.known.set(key, identity);
    if (before !== undefined && customerKey(before) !== customerKey(identity)) {
      this.changed(customerKey({ kind: 'legacy', productCode: identity.productCode, customerAwsAccountId: record.customerAwsAccountId }));
    }
  }

  /** The identity usage named by this account id is metered as; ERR_METERKIT_UNKNOWN_CUSTOMER when the registry does not hold it. */
  target(identity: LegacyIdentity & { readonly customerAwsAccountId: string }): CustomerIdentity {
    const found = this.known.get(accountKey(identity.productCode, identity.customerAwsAccountId));
    if (found !== undefined) return found;
    if (this.stale) void this.read().catch(() => undefined);
    throw new MeterkitError(
      ErrorCodes.UNKNOWN_CUSTOMER,
      `No registered legacy customer of ${identity.productCode} has account ${mask(identity.customerAwsAccountId)}. A legacy buyer is metered under the ` +
        'identity it registered with (its CustomerIdentifier, whose account id meterkit maps to it); register the account first ' +
        '(resolveRegistration() or putCustomer()). meter() knows the registry as this instance last read it; meterFor() reads it again.',
      { details: { productCode: identity.productCode } },
    );
  }

  /**
   * Reads every legacy customer from the registry, a page at a time: when never read or forgotten, or always with
   * `force`.
   */
  async read(force = false): Promise<void> {
    if (this.reading !== undefined) await this.reading.catch(() => undefined);
    if (!this.stale && !force) return;
    this.stale = false;
    const reading = (async () => {
      try {
        for await (const page of customerPages(await this.store())) for (const record of page) this.learn(record);
      } catch (error) {
        this.stale = true;
        throw error;
      }
    })();
    this.reading = reading;
    try {
      await reading;
    } finally {
      if (this.reading === reading) this.reading = undefined;
    }
  }

  /** The registry changed elsewhere: the next read() reads it again. */
  forget(): void {
    this.stale = true;
  }
}
