import { ErrorCodes, MeterkitError } from '../errors';
import type { CustomerRecord } from '../model/customer';
import type { UsageStore } from '../store/usage-store';

/** Conflicting writers each make progress, so a handful of attempts is plenty; more means a writer storm. */
export const MAX_WRITE_ATTEMPTS = 10;

/** What to do with the customer as read: write `write` over it (or leave it), and answer `result`. */
export interface CustomerDecision<T> {
  readonly result: T;
  readonly write?: CustomerRecord;
  /** Runs once, after `write` was stored: events, flushes, cache invalidation. Gets the record as stored. */
  readonly afterWrite?: (written: CustomerRecord) => void;
}

/**
 * Read, decide, write-if-unchanged: writes the decision only if nobody wrote the customer since it was read
 * (a compare-and-set on the store's version). On a conflict it reads again and decides again, so every rule
 * is applied to the state it writes over. Gives up after MAX_WRITE_ATTEMPTS with ERR_METERKIT_CUSTOMER_CONFLICT.
 */
export async function updateCustomer<T>(
  store: UsageStore,
  read: string | (() => Promise<CustomerRecord | undefined>),
  decide: (current: CustomerRecord | undefined) => CustomerDecision<T> | Promise<CustomerDecision<T>>,
): Promise<T> {
  for (let attempt = 1; attempt <= MAX_WRITE_ATTEMPTS; attempt++) {
    const current = typeof read === 'string' ? await store.getCustomer(read) : await read();
    const decision = await decide(current);
    if (decision.write === undefined) return decision.result;
    if (current !== undefined && decision.write.key !== current.key) {
      throw new Error(`a customer decision read ${current.key} but writes ${decision.write.key}`);
    }
    const expectedVersion = current?.version;
    if (await store.putCustomer(decision.write, { expectedVersion })) {
      decision.afterWrite?.({ ...decision.write, version: (expectedVersion ?? 0) + 1 });
      return decision.result;
    }
  }
  throw new MeterkitError(
    ErrorCodes.CUSTOMER_CONFLICT,
    `The customer changed under ${MAX_WRITE_ATTEMPTS} attempts in a row to update it; nothing was written. Deliver the change again.`,
  );
}
