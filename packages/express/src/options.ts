import {
  ErrorCodes,
  MeterkitError,
  resolveEntitlementGate,
  resolveLifecycleRoute,
  resolveRegistrationRoute,
  resolveStatusPageRoute,
  resolveCommitPolicy,
  resolveManageLifecycle,
  warnDeprecatedOption,
  type CommitPolicy,
  type Identified,
  type LifecycleRouteOptions,
  type RegistrationRouteOptions,
  type SubscriptionEvent,
} from '@meterkit/core';
export type { EntitlementGateOptions } from '@meterkit/core';
import type { EntitlementGateOptions } from '@meterkit/core';
import type { Request } from 'express';

/** The registration route: where AWS Marketplace posts buyers after "Set up your account". */
export type RegistrationOptions = RegistrationRouteOptions<Request>;

/**
 * The lifecycle route (POST): where an EventBridge API destination (and, with `sns`, a legacy SNS subscription)
 * delivers AWS Marketplace agreement and license events. `secret` is what the connection sends in `headerName`
 * (default 'x-api-key'); bodies are read raw on this route only, up to `maxBodyBytes` (default 65 536).
 */
export type LifecycleOptions = LifecycleRouteOptions;

/** The operators' status page (GET `<path>` HTML, `<path>.json` JSON, POST `<path>` its login form). Off unless a `token` or a `guard` is given. */
export interface StatusPageRouteOptions {
  /** Where the page is served, relative to where meterkit is mounted. Default `'/meterkit/status'`. */
  readonly path?: string;
  /**
   * Secret that opens the page, at least 16 characters: in `Authorization: Bearer <token>` or `x-meterkit-token`, or
   * typed into the page's login form (POST `<path>`), which sets an HttpOnly, SameSite=Strict session cookie. A
   * `?token=` is refused.
   */
  readonly token?: string;
  /** Your own check (an admin session, an internal network): true lets the request in. */
  readonly guard?: (req: Request) => boolean | Promise<boolean>;
  /** How many recent errors the page keeps. Default 20, 0 for none. */
  readonly recentErrors?: number;
  /** How long a login lasts, ms. Default 12 h. */
  readonly sessionMs?: number;
  /** Customers per page of the per-customer view. Default 50. */
  readonly customersPerPage?: number;
  /** The HTML page reloads itself every this many seconds. Default 30, 0 never. */
  readonly refreshSeconds?: number;
}

/** The entitlement gate of paid container products (docs/products.md). */

export interface MeterkitOptions {
  /**
   * Who the request bills: your tenant id (mapped to its customer by the core's registry or `customerForTenant`),
   * a CustomerIdentity, a CustomerRecord, or undefined for requests that are not metered. May be async.
   * If it throws, the error goes to Express's error handling (it is your code, not metering).
   */
  readonly identify: (req: Request) => Identified | Promise<Identified>;
  /** Mounts the registration route (POST) when given. Default: no route. */
  readonly registration?: RegistrationOptions;
  /** Mounts the lifecycle route (POST) when given. Default: no route. */
  readonly lifecycle?: LifecycleOptions;
  /**
   * Called on every subscription change (activated, updated, renewed, replaced, deprovisioning, ended) to grant or
   * revoke access. Not awaited by the delivery; an error it throws or rejects with is logged (console.error).
   */
  readonly onSubscriptionChange?: (event: SubscriptionEvent) => void | Promise<void>;
  /** Serves the status page when given (a `token` or a `guard` is required). Default: no page. */
  readonly statusPage?: StatusPageRouteOptions;
  /**
   * `true` (or `{ register }`): while `metering.entitlement()` is not `entitled`, every request through meterkit
   * except the registration, lifecycle and status routes is answered 503 with the core's body. Default off.
   */
  readonly entitlementGate?: boolean | EntitlementGateOptions;
  /**
   * Start the core's persist and flush timers (`metering.start()`) now; `close()` on the middleware persists all
   * usage and closes the engine (Express has no shutdown hook: call it from yours). Default true.
   */
  readonly manageLifecycle?: boolean;
  /**
   * Which responses are billed: `commitOn` (default: status below 400, so refusals and failures bill nothing) and
   * `commitAborted` (bill requests whose client went away first; default false).
   */
  readonly commitPolicy?: CommitPolicy;
  /** @deprecated Use `manageLifecycle`. Accepted for this release with a deprecation warning logged once. */
  readonly start?: boolean;
  /** @deprecated Use `commitPolicy.commitOn`. Accepted for this release with a deprecation warning logged once. */
  readonly commitOn?: (statusCode: number) => boolean;
  /** @deprecated Use `commitPolicy.commitAborted`. Accepted for this release with a deprecation warning logged once. */
  readonly commitAborted?: boolean;
  /**
   * Commit the request's meter and wait for the store write when the handler ends the response (`res.end`),
   * before the response leaves: for AWS Lambda, where the instance may be frozen right after it. Adds one store
   * write to each metered request's latency. A store outage never fails the response. Default false.
   */
  readonly persistBeforeResponse?: boolean;
}

export interface ResolvedRegistration extends RegistrationOptions {
  readonly maxBodyBytes: number;
  readonly rateLimitPerMinute: number;
}

export interface ResolvedOptions {
  readonly identify: MeterkitOptions['identify'];
  readonly registration: ResolvedRegistration | undefined;
  readonly lifecycle: LifecycleOptions | undefined;
  readonly onSubscriptionChange: MeterkitOptions['onSubscriptionChange'];
  readonly start: boolean;
  readonly policy: CommitPolicy;
  readonly persistBeforeResponse: boolean;
  readonly statusPage: StatusPageRouteOptions | undefined;
  readonly entitlementGate: Required<EntitlementGateOptions> | undefined;
}

function fail(message: string): never {
  throw new MeterkitError(ErrorCodes.OPTIONS, `meterkit(express): ${message}`);
}






/** Validates the adapter's options once, at meterkit(), and fills in the documented defaults. */
export function resolveOptions(options: MeterkitOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') fail('options must be an object with at least `identify`.');
  if (typeof options.identify !== 'function') fail('identify must be a function (req) => tenant id | customer | undefined.');
  if (options.commitOn !== undefined && typeof options.commitOn !== 'function') fail('commitOn must be a function (statusCode) => boolean.');
  if (options.commitAborted !== undefined && typeof options.commitAborted !== 'boolean') fail('commitAborted must be a boolean.');
  if (options.start !== undefined && typeof options.start !== 'boolean') fail('start must be a boolean.');
  if (options.start !== undefined) warnDeprecatedOption('meterkit(express)', 'start', 'manageLifecycle');
  if (options.commitOn !== undefined) warnDeprecatedOption('meterkit(express)', 'commitOn', 'commitPolicy.commitOn');
  if (options.commitAborted !== undefined) warnDeprecatedOption('meterkit(express)', 'commitAborted', 'commitPolicy.commitAborted');
  if (options.persistBeforeResponse !== undefined && typeof options.persistBeforeResponse !== 'boolean') fail('persistBeforeResponse must be a boolean.');
  if (options.onSubscriptionChange !== undefined && typeof options.onSubscriptionChange !== 'function') fail('onSubscriptionChange must be a function (event) => void.');
  const legacy: CommitPolicy = {
    ...(options.commitOn === undefined ? {} : { commitOn: options.commitOn }),
    ...(options.commitAborted === undefined ? {} : { commitAborted: options.commitAborted }),
  };
  let policy: CommitPolicy;
  try {
    policy = resolveCommitPolicy(options.commitPolicy, legacy);
  } catch (error) {
    fail((error as Error).message);
  }
  return {
    identify: options.identify,
    registration: resolveRegistrationRoute(options.registration),
    lifecycle: resolveLifecycleRoute(options.lifecycle),
    onSubscriptionChange: options.onSubscriptionChange,
    start: options.manageLifecycle === undefined ? (options.start ?? true) : resolveManageLifecycle(options.manageLifecycle),
    policy,
    persistBeforeResponse: options.persistBeforeResponse ?? false,
    statusPage: resolveStatusPageRoute(options.statusPage),
    entitlementGate: resolveEntitlementGate(options.entitlementGate),
  };
}
