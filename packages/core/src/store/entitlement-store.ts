import type { EntitlementSet } from '../contracts/entitlement-set';
import type { UsageDelta } from '../model/usage';
import type { AddUsageResult } from './usage-store';

/**
 * Usage of a dimension an entitlement includes units of (contracts with consumption): only the part above what
 * the period includes is metered.
 */
export interface IncludedUse {
  /** The usage as recorded; its `dimension` is the metered dimension the part above the entitlement is added to. */
  readonly delta: UsageDelta;
  /** The entitlement dimension whose value includes units; the counter is (customerKey, allowanceDimension, periodStart). */
  readonly allowanceDimension: string;
  /** Start of the period the included units belong to (ms epoch). */
  readonly periodStart: number;
  /** Units the entitlement includes in the period, as known when this batch is written. */
  readonly included: number;
}

/** How much of a period's included units a customer has used. */
export interface AllowanceCounter {
  readonly customerKey: string;
  readonly allowanceDimension: string;
  readonly periodStart: number;
  /** Every unit recorded in the period, included or not. */
  readonly used: number;
}

export interface AddUsageAboveIncludedResult extends AddUsageResult {
  /** Per use, in order: the units added to the metered record (0 when all were included). Empty when `applied` is false. */
  readonly metered: readonly number[];
}

/** The store methods contract products need (docs/contracts.md). Every store meterkit ships implements them. */
export interface EntitlementStore {
  /**
   * Stores `set` as the customer's whole set if none is stored or the stored one was fetched earlier
   * (`fetchedAt` strictly older), atomically with that check. Answers whether it wrote.
   */
  putEntitlements(set: EntitlementSet): Promise<boolean>;
  getEntitlements(customerKey: string): Promise<EntitlementSet | undefined>;
  listEntitlements(): Promise<EntitlementSet[]>;
  /**
   * One atomic write, all or none, exactly once per `batchId` (a batch applied before changes nothing and answers
   * `applied: false`): adds `deltas` as addUsage() does and, for each use in order, adds its quantity to the
   * counter and adds the part above `included` to the metered record:
   * max(0, used + q − included) − max(0, used − included). A frozen metered record counts it as late.
   */
  addUsageAboveIncluded(deltas: readonly UsageDelta[], uses: readonly IncludedUse[], batchId: string): Promise<AddUsageAboveIncludedResult>;
  /** The customer's counters, newest period first. */
  listAllowanceCounters(customerKey: string): Promise<AllowanceCounter[]>;
}

/** Whether a store implements the methods contract products need. */
export function isEntitlementStore<S extends object>(store: S): store is S & EntitlementStore {
  const s = store as Partial<EntitlementStore>;
  return (
    typeof s.putEntitlements === 'function' &&
    typeof s.getEntitlements === 'function' &&
    typeof s.listEntitlements === 'function' &&
    typeof s.addUsageAboveIncluded === 'function' &&
    typeof s.listAllowanceCounters === 'function'
  );
}
