import { MeterkitError, ErrorCodes } from '../errors';
import type { Metering } from '../metering';
import type { CustomerIdentity, CustomerRecord } from '../model/customer';
import type { RequestMeter } from '../meter/request-meter';

/** What an adapter's `identify(req)` returns: your tenant id, a customer, or nothing for unmetered requests. */
export type Identified = string | CustomerIdentity | CustomerRecord | null | undefined;

export interface MeterLookup {
  /** Undefined when the request is not metered (not identified, unknown or inactive customer). */
  readonly meter?: RequestMeter;
  /** Why an identified request got no meter. */
  readonly error?: MeterkitError;
}

/**
 * The request's meter without a promise: null when the request is not identified, the meter when the customer is
 * one this instance already knows (Metering.tryMeter), undefined when only meterForRequest() can answer.
 */
export function knownMeterForRequest(metering: Metering, identified: Identified): RequestMeter | null | undefined {
  if (identified === undefined || identified === null || identified === '') return null;
  try {
    return metering.tryMeter(identified);
  } catch {
    // meterForRequest() answers the same error, typed.
    return undefined;
  }
}

/**
 * Resolves a request's meter. Never rejects: an unknown or inactive customer or a store outage leaves the request
 * unmetered with the reason, so the app decides whether to serve it.
 */
export async function meterForRequest(metering: Metering, identified: Identified): Promise<MeterLookup> {
  if (identified === undefined || identified === null || identified === '') return {};
  try {
    return { meter: await metering.meterFor(identified) };
  } catch (cause) {
    return {
      error: cause instanceof MeterkitError ? cause : new MeterkitError(ErrorCodes.STORE, 'Could not look up the customer of this request.', { cause }),
    };
  }
}
