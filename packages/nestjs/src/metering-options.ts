import {
  ErrorCodes,
  MeterkitError,
  resolveEntitlementGate,
  resolveLifecycleRoute,
  resolveRegistrationRoute,
  resolveStatusPageRoute,
  resolveManageLifecycle,
  warnDeprecatedOption,
  type CommitPolicy,
  type Identified,
  type LifecycleRouteOptions,
  type Metering,
  type MeteringOptions,
  type RegistrationRouteOptions,
  type SubscriptionEvent,
} from '@meterkit/core';
export type { EntitlementGateOptions } from '@meterkit/core';
import type { EntitlementGateOptions } from '@meterkit/core';

/** The operators' status page (GET `<path>` HTML, `<path>.json` JSON, POST `<path>` its login form). Off unless a `token` or a `guard` is given. */
export interface StatusPageRouteOptions<Req = any> {
  /** Where the page is served (your global prefix, if any, comes before it). Default `'/meterkit/status'`. */
  readonly path?: string;
  /**
   * Secret that opens the page, at least 16 characters: in `Authorization: Bearer <token>` or `x-meterkit-token`, or
   * typed into the page's login form (POST `<path>`), which sets an HttpOnly, SameSite=Strict session cookie. A
   * `?token=` is refused.
   */
  readonly token?: string;
  /** Your own check (an admin session, an internal network) on the platform's request: true lets it in. */
  readonly guard?: (request: Req) => boolean | Promise<boolean>;
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

/** What the Nest adapter adds to the core options. `Req` is the platform's request (Express `Request` or `FastifyRequest`). */
export interface MeteringAdapterOptions<Req = any> {
  /**
   * Names the customer of a request: your tenant id (mapped by the customer registry or `customerForTenant`), a
   * customer identity or record, or nothing for unmetered requests. Runs for the routes that declare metering
   * (`@Metered()`, `@Meter()`, `@RequireEntitlement()`), in meterkit's route guard, after every other guard, so it can read
   * what your auth guard put on the request; at most once per request. Default: no request is metered.
   */
  readonly identify?: (request: Req) => Identified | Promise<Identified>;
  /** The AWS Marketplace registration (fulfillment URL) route. Default: none. */
  readonly registration?: RegistrationRouteOptions<Req>;
  /**
   * The lifecycle route (POST `path`): where an EventBridge API destination (and, with `sns`, a legacy SNS
   * subscription) delivers AWS Marketplace agreement and license events. `secret` is what the connection sends in
   * `headerName` (default 'x-api-key'); bodies are capped at `maxBodyBytes` (default 65 536). Create the app with
   * `rawBody: true` to have the exact bytes checked; without it the platform's parsed body is used. Default: none.
   */
  readonly lifecycle?: LifecycleRouteOptions;
  /**
   * Called on every subscription change (activated, updated, renewed, replaced, deprovisioning, ended) to grant or
   * revoke access. Not awaited by the delivery; what it throws or rejects with is logged (Logger, context 'Metering').
   */
  readonly onSubscriptionChange?: (event: SubscriptionEvent) => void | Promise<void>;
  /** Which responses are billed. Default: status below 400 (refusals and failures bill nothing), aborted requests not billed. */
  readonly commitPolicy?: CommitPolicy;
  /**
   * Called when a request could not be metered (unknown or inactive customer, store outage, a `@Metered()`
   * dimension the product does not have). The request is served anyway. Default: Nest's Logger, context
   * 'Metering', with the error code: debug for an unknown customer, warn for everything else.
   */
  readonly onMeteringError?: (error: MeterkitError, request: Req) => void;
  /** Serves the status page when given (a `token` or a `guard` is required). Default: no page. */
  readonly statusPage?: StatusPageRouteOptions<Req>;
  /**
   * `true` (or `{ register }`): while `metering.entitlement()` is not `entitled`, every request to a controller
   * except the registration, lifecycle and status routes is answered 503 with the core's body (a global guard).
   * Default off.
   */
  readonly entitlementGate?: boolean | EntitlementGateOptions;
  /**
   * Start the engine's persist and flush scheduler on application bootstrap, and persist all usage and close the
   * engine on application shutdown (call `app.enableShutdownHooks()` to have signals shut it down). Default true.
   */
  readonly manageLifecycle?: boolean;
}

/** Core options (a new `Metering` is created, started with the app and closed on shutdown)... */
export type CoreMeteringOptions = MeteringOptions & { readonly metering?: undefined };
/** ...or a `Metering` you created; the module starts it with the app (unless `autoStart: false`) and closes it on shutdown. */
export interface ExistingMeteringOptions {
  readonly metering: Metering;
  /** @deprecated Use `manageLifecycle`. Accepted for this release with a deprecation warning logged once; `false` only skips the start. */
  readonly autoStart?: boolean;
}

export type MeteringModuleOptions<Req = any> = MeteringAdapterOptions<Req> & (CoreMeteringOptions | ExistingMeteringOptions);

export interface ResolvedRegistration<Req = any> extends RegistrationRouteOptions<Req> {
  readonly maxBodyBytes: number;
  readonly rateLimitPerMinute: number;
}

function fail(message: string): never {
  throw new MeterkitError(ErrorCodes.OPTIONS, message);
}

function checkFunction(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') fail(`${name} must be a function.`);
}

/** Validates the adapter's own options once, when the module is created. Throws ERR_METERKIT_OPTIONS. */
export function validateAdapterOptions(options: MeteringModuleOptions): void {
  if (options === null || typeof options !== 'object') fail('MeteringModule needs an options object.');
  checkFunction('identify', options.identify);
  checkFunction('onMeteringError', options.onMeteringError);
  checkFunction('commitPolicy.commitOn', options.commitPolicy?.commitOn);
  checkFunction('onSubscriptionChange', options.onSubscriptionChange);
  resolveManageLifecycle(options.manageLifecycle);
  if (options.metering !== undefined && (options as ExistingMeteringOptions).autoStart !== undefined) {
    warnDeprecatedOption('@meterkit/nestjs', 'autoStart', 'manageLifecycle');
  }
  resolveRegistrationRoute(options.registration);
  resolveLifecycleRoute(options.lifecycle);
  resolveStatusPageRoute(options.statusPage);
  resolveEntitlementGate(options.entitlementGate);
}

/** The status page options, path checked (token, guard and recentErrors are checked by the core), or undefined. */

/** The entitlement gate with its default, or undefined when it is off. */

/** The lifecycle route with its documented defaults, or undefined when the app has none. */

/** The registration route with its documented defaults, or undefined when the app has none. */

/** The core options without the adapter's, with the scheduler left to the application lifecycle. */
export function coreOptionsOf(options: CoreMeteringOptions & MeteringAdapterOptions): MeteringOptions {
  const {
    identify: _identify,
    registration: _registration,
    lifecycle: _lifecycle,
    onSubscriptionChange: _onSubscriptionChange,
    commitPolicy: _commitPolicy,
    onMeteringError: _onError,
    statusPage: _statusPage,
    entitlementGate: _entitlementGate,
    manageLifecycle: _manageLifecycle,
    metering: _metering,
    ...core
  } = options;
  return { ...core, autoStart: false };
}
