import { EventEmitter } from 'node:events';
import type { MeterkitError } from './errors';
import type { CustomerRecord } from './model/customer';
import type { StoredRecord } from './store/usage-store';
import type { UsageDelta } from './model/usage';
import type { SubscriptionEvent } from './lifecycle/subscription-event';
import type { EntitlementSet } from './contracts/entitlement-set';

/** The typed events of a Metering instance. Listeners run synchronously: keep them quick. */
export interface MeteringEvents {
  /** A request meter committed usage into memory (emitted only while someone listens). */
  recorded: { customerKey: string; hour: number; records: number; quantity: number };
  /** In-memory usage reached the store. */
  persisted: { deltas: number; quantity: number };
  /** AWS accepted records (Success, or the acknowledgement of an identical resend). */
  sent: { records: readonly StoredRecord[]; productCode: string };
  /** AWS refused a record for good (with the AWS exception or status as reason). */
  rejected: { record: StoredRecord; reason: string };
  /** The customer has no active subscription: the record was not billed. */
  notSubscribed: { record: StoredRecord };
  /** AWS already holds a different quantity for this record: billing was lost. */
  duplicate: { record: StoredRecord };
  /** A record can no longer make AWS's submission window. */
  expired: { record: StoredRecord; deadline: number };
  /** Dry-run mode: everything ran but the call to AWS. */
  dryRun: { records: readonly StoredRecord[]; productCode: string };
  /** AWS returned records as unprocessed; they are retried later. */
  unprocessed: { records: readonly StoredRecord[] };
  /** Usage reached a record after its quantity was frozen: counted in status, not sent. */
  late: { deltas: readonly UsageDelta[] };
  /** A subscription changed (AWS lifecycle event): grant, keep, move or revoke the customer's access. */
  subscription: SubscriptionEvent;
  /** A buyer was resolved on the registration route. */
  registered: { customer: CustomerRecord; firstTime: boolean };
  /**
   * A contract customer's stored entitlements changed (a newer read with other values, or a revocation after an end
   * signal). `previous` is the set stored before; `trigger` what caused the read (registration, event:<id>, timer,
   * expiry, manual).
   */
  entitlementsChanged: {
    customerKey: string;
    productCode: string;
    entitlements: EntitlementSet;
    previous: EntitlementSet | undefined;
    trigger: string;
  };
  /**
   * A contract customer's entitlements could not be refreshed: GetEntitlements failed (ERR_METERKIT_ENTITLEMENT_READ
   * with the AWS exception), or it still answered the old values after every stale retry. The stored set stays.
   */
  entitlementRefreshFailed: { customerKey: string; productCode: string; error: MeterkitError; trigger: string };
  /** Trouble that did not fail a request: store outage, AWS errors, configuration. */
  error: { error: MeterkitError };
}

export type MeteringEventName = keyof MeteringEvents;
export type MeteringListener<E extends MeteringEventName> = (payload: MeteringEvents[E]) => void;

/** A typed emitter that never throws for an unheard `error` event (it is logged instead). */
export class MeteringEmitter {
  private readonly emitter = new EventEmitter();
  /** Listeners of `recorded`, kept as a count: every commit asks, and asking the emitter is a keyed lookup. */
  private recordedListeners = 0;

  constructor() {
    this.emitter.on('newListener', (event: string) => {
      if (event === 'recorded') this.recordedListeners++;
    });
    this.emitter.on('removeListener', (event: string) => {
      if (event === 'recorded') this.recordedListeners--;
    });
  }

  /** Whether anyone listens to `recorded`, asked on every commit. */
  get hearsRecorded(): boolean {
    return this.recordedListeners > 0;
  }

  on<E extends MeteringEventName>(event: E, listener: MeteringListener<E>): this {
    this.emitter.on(event, listener as (payload: unknown) => void);
    return this;
  }

  once<E extends MeteringEventName>(event: E, listener: MeteringListener<E>): this {
    this.emitter.once(event, listener as (payload: unknown) => void);
    return this;
  }

  off<E extends MeteringEventName>(event: E, listener: MeteringListener<E>): this {
    this.emitter.off(event, listener as (payload: unknown) => void);
    return this;
  }

  /** Returns false when nobody listened. A throwing listener does not break metering. */
  emit<E extends MeteringEventName>(event: E, payload: MeteringEvents[E]): boolean {
    if (this.emitter.listenerCount(event) === 0) return false;
    try {
      this.emitter.emit(event, payload);
    } catch {
      // A listener's bug must not lose usage; the listener owns its errors.
    }
    return true;
  }
}
