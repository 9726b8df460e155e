import { ErrorCodes, MeterkitError, type ErrorCode } from '../errors';
import type { Metering } from '../metering';
import type { CustomerRecord } from '../model/customer';

/** The form field AWS Marketplace posts the registration token in. */
export const TOKEN_FIELD = 'x-amzn-marketplace-token';
export const OFFER_TYPE_FIELD = 'x-amzn-marketplace-offer-type';

/** What the app's hook may answer after a buyer registered. */
export interface RegisteredAction {
  /** Link the customer to this tenant of your app. */
  readonly tenantId?: string;
  /** Send the buyer here (303 See Other), e.g. your sign-up page with a short-lived signed reference. */
  readonly redirect?: string;
}

export interface RegistrationRouteOptions<Req = unknown> {
  /** Where AWS Marketplace posts buyers (the product's fulfillment URL path). */
  readonly path: string;
  /** Called with the resolved customer; link it to your tenant, start sign-up, choose where the buyer goes. */
  readonly onRegistered?: (customer: CustomerRecord, request: Req, context: { freeTrial: boolean }) => Promise<RegisteredAction | void> | RegisteredAction | void;
  /** Where buyers go after registering when the hook names no redirect. Default: a 200 JSON answer. */
  readonly redirectTo?: string;
  /** Largest accepted form body in bytes. Default 16 384. */
  readonly maxBodyBytes?: number;
  /** Registration posts per client address per minute. Default 30; 0 turns the limit off. */
  readonly rateLimitPerMinute?: number;
}

export type RegistrationResult =
  | { readonly status: 303; readonly location: string }
  | { readonly status: 200; readonly body: { readonly registered: true; readonly productCode: string } }
  | { readonly status: 400 | 413 | 415 | 429 | 502 | 503; readonly body: { readonly error: { readonly code: string; readonly message: string } } }
  | {
      readonly status: 500;
      readonly body: { readonly error: { readonly code: typeof ErrorCodes.REGISTRATION_HOOK; readonly message: string } };
      /** What the app's `onRegistered` hook threw: the adapter logs it, the buyer never sees it. */
      readonly cause: unknown;
    };

export const DEFAULT_REGISTRATION_BODY_BYTES = 16_384;

const CLIENT_ERRORS: ReadonlySet<ErrorCode> = new Set([
  ErrorCodes.TOKEN_MALFORMED,
  ErrorCodes.TOKEN_INVALID,
  ErrorCodes.TOKEN_EXPIRED,
  ErrorCodes.UNKNOWN_PRODUCT,
  ErrorCodes.INVALID_CUSTOMER,
]);

export function registrationError(status: 400 | 413 | 415 | 429 | 502 | 503, code: string, message: string): RegistrationResult {
  return { status, body: { error: { code, message } } };
}

/** The answer to a client over its registration rate limit (send it with `retry-after: 60`). */
export function rateLimitedResult(): RegistrationResult {
  return registrationError(429, ErrorCodes.RATE_LIMITED, 'Too many registration attempts from this address; try again in a minute.');
}

/** Reads the token from a parsed form (an object of fields) without trusting its shape. */
export function tokenFromForm(form: unknown): unknown {
  if (form === null || typeof form !== 'object') return undefined;
  const value = (form as Record<string, unknown>)[TOKEN_FIELD];
  return Array.isArray(value) ? undefined : value;
}

/** Parses an application/x-www-form-urlencoded body into fields (a repeated field becomes an array). */
export function parseForm(raw: string): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = Object.create(null);
  for (const [key, value] of new URLSearchParams(raw)) {
    const existing = fields[key];
    fields[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return fields;
}

/** The answer when the app's `onRegistered` hook threw or rejected: 500 ERR_METERKIT_REGISTRATION_HOOK in every adapter. */
export function hookFailedResult(cause: unknown): RegistrationResult {
  return {
    status: 500,
    body: { error: { code: ErrorCodes.REGISTRATION_HOOK, message: 'Registration could not be completed; please try the same link again in a few minutes.' } },
    cause,
  };
}

/**
 * The registration route's logic, the same in every adapter: resolve the token, store the customer, run the
 * app's hook, answer with a redirect or JSON. Bad tokens are 400s (expired ones too); ResolveCustomer trouble 502
 * (GetEntitlements trouble of a contract product too: ERR_METERKIT_ENTITLEMENT_READ), and so is a registration past
 * `registrationTimeoutMs` (ERR_METERKIT_REGISTRATION_FAILED): the route answers within that bound plus the hook's time;
 * store trouble 503; an `onRegistered` hook that throws 500 ERR_METERKIT_REGISTRATION_HOOK (with `cause` to log).
 * Never rejects.
 */
export async function handleRegistration<Req>(
  metering: Metering,
  form: unknown,
  request: Req,
  options: RegistrationRouteOptions<Req>,
): Promise<RegistrationResult> {
  let customer: CustomerRecord;
  try {
    customer = await metering.resolveRegistration(tokenFromForm(form));
  } catch (error) {
    if (error instanceof MeterkitError && CLIENT_ERRORS.has(error.code)) return registrationError(400, error.code, error.message);
    if (error instanceof MeterkitError && error.code === ErrorCodes.REGISTRATION_FAILED) return registrationError(502, error.code, error.message);
    if (error instanceof MeterkitError && error.code === ErrorCodes.ENTITLEMENT_READ) {
      return registrationError(502, error.code, 'Your AWS Marketplace contract could not be read right now; please try the same link again in a few minutes.');
    }
    return registrationError(503, ErrorCodes.STORE, 'Registration is unavailable right now; please try the same link again in a few minutes.');
  }
  const fields = form as Record<string, unknown>;
  let action: RegisteredAction;
  try {
    action = (await options.onRegistered?.(customer, request, { freeTrial: fields[OFFER_TYPE_FIELD] === 'free-trial' })) ?? {};
  } catch (error) {
    return hookFailedResult(error);
  }
  if (action.tenantId !== undefined) {
    try {
      await metering.linkTenant(customer.key, action.tenantId);
    } catch (error) {
      if (error instanceof MeterkitError && error.code === ErrorCodes.STORE) {
        return registrationError(503, ErrorCodes.STORE, 'Registration is unavailable right now; please try the same link again in a few minutes.');
      }
      // The tenant named by the hook is already linked to another customer, or is not a valid tenant id: the hook's answer is wrong.
      return hookFailedResult(error);
    }
  }
  const location = action.redirect ?? options.redirectTo;
  if (location !== undefined) return { status: 303, location };
  return { status: 200, body: { registered: true, productCode: customer.identity.productCode } };
}
