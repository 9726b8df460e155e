import {
  ErrorCodes,
  MeterkitError,
  resolveEntitlementGate,
  resolveLifecycleRoute,
  resolveRegistrationRoute,
  resolveStatusPageRoute,
  type CommitPolicy,
  type Identified,
  type LifecycleRouteOptions,
  type Metering,
  type RegistrationRouteOptions,
  type SubscriptionEvent,
} from '@meterkit/core';
export type { EntitlementGateOptions } from '@meterkit/core';
import type { EntitlementGateOptions } from '@meterkit/core';
import type { FastifyRequest } from 'fastify';

/** The hooks `identify` can run in. */
export type IdentifyHook = 'onRequest' | 'preValidation' | 'preHandler';

/** The operators' status page (GET `<path>` HTML, `<path>.json` JSON, POST `<path>` its login form). Off unless a `token` or a `guard` is given. */
export interface StatusPageRouteOptions {
  /** Where the page is served. Default `'/meterkit/status'`. */
  path?: string;
  /**
   * Secret that opens the page, at least 16 characters: in `Authorization: Bearer <token>` or `x-meterkit-token`, or
   * typed into the page's login form (POST `<path>`), which sets an HttpOnly, SameSite=Strict session cookie. A
   * `?token=` is refused.
   */
  token?: string;
  /** Your own check (an admin session, an internal network): true lets the request in. */
  guard?: (request: FastifyRequest) => boolean | Promise<boolean>;
  /** How many recent errors the page keeps. Default 20, 0 for none. */
  recentErrors?: number;
  /** How long a login lasts, ms. Default 12 h. */
  sessionMs?: number;
  /** Customers per page of the per-customer view. Default 50. */
  customersPerPage?: number;
  /** The HTML page reloads itself every this many seconds. Default 30, 0 never. */
  refreshSeconds?: number;
}

/** The entitlement gate of paid container products (docs/products.md). */

export interface MeterkitPluginOptions {
  /** The engine from `createMetering()`. Required. */
  metering: Metering;
  /**
   * Who the request bills: your tenant id, a CustomerIdentity, a CustomerRecord, or undefined for an
   * unmetered request. May be async. Required.
   */
  identify: (request: FastifyRequest) => Identified | Promise<Identified>;
  /**
   * The hook `identify` runs in. Default `'preHandler'`: after every onRequest and preValidation hook,
   * so your authentication has run.
   */
  identifyHook?: IdentifyHook;
  /** Which responses are billed. Default: status below 400 (refusals and failures bill nothing), never aborted responses. */
  commitPolicy?: CommitPolicy;
  /** The AWS Marketplace registration (fulfillment URL) route. Default: none. */
  registration?: RegistrationRouteOptions<FastifyRequest>;
  /**
   * The lifecycle route (POST `path`): where an EventBridge API destination (and, with `sns`, a legacy SNS
   * subscription) delivers AWS Marketplace agreement and license events. `secret` is what the connection sends in
   * `headerName` (default 'x-api-key'); the body is read raw in the route's own context, up to `maxBodyBytes`
   * (default 65 536). Default: none.
   */
  lifecycle?: LifecycleRouteOptions;
  /**
   * Called on every subscription change (activated, updated, renewed, replaced, deprovisioning, ended) to grant or
   * revoke access. Not awaited by the delivery; what it throws or rejects with is logged with `fastify.log`.
   */
  onSubscriptionChange?: (event: SubscriptionEvent) => void | Promise<void>;
  /** Serves the status page when given (a `token` or a `guard` is required). Default: no page. */
  statusPage?: StatusPageRouteOptions;
  /**
   * `true` (or `{ register }`): while `metering.entitlement()` is not `entitled`, every request except the
   * registration, lifecycle and status routes is answered 503 with the core's body, in an `onRequest` hook. Default off.
   */
  entitlementGate?: boolean | EntitlementGateOptions;
  /** Start the scheduler on `onReady` and close the engine (persisting pending usage) on `onClose`. Default true. */
  manageLifecycle?: boolean;
}

export interface ResolvedRegistration extends RegistrationRouteOptions<FastifyRequest> {
  readonly maxBodyBytes: number;
  readonly rateLimitPerMinute: number;
}

export interface ResolvedPluginOptions {
  readonly metering: Metering;
  readonly identify: MeterkitPluginOptions['identify'];
  readonly identifyHook: IdentifyHook;
  readonly commitPolicy: CommitPolicy;
  readonly registration: ResolvedRegistration | undefined;
  readonly lifecycle: LifecycleRouteOptions | undefined;
  readonly onSubscriptionChange: MeterkitPluginOptions['onSubscriptionChange'];
  readonly manageLifecycle: boolean;
  readonly statusPage: StatusPageRouteOptions | undefined;
  readonly entitlementGate: Required<EntitlementGateOptions> | undefined;
}

const IDENTIFY_HOOKS: readonly IdentifyHook[] = ['onRequest', 'preValidation', 'preHandler'];

function fail(message: string): never {
  throw new MeterkitError(ErrorCodes.OPTIONS, `@meterkit/fastify: ${message}`);
}






function resolveCommitPolicy(policy: CommitPolicy | undefined): CommitPolicy {
  if (policy === undefined) return {};
  if (policy === null || typeof policy !== 'object') fail('commitPolicy must be an object.');
  if (policy.commitOn !== undefined && typeof policy.commitOn !== 'function') fail('commitPolicy.commitOn must be a function of the status code.');
  if (policy.commitAborted !== undefined && typeof policy.commitAborted !== 'boolean') fail('commitPolicy.commitAborted must be a boolean.');
  return policy;
}

/** Validates the plugin options once, at registration, and fills in the documented defaults. */
export function resolvePluginOptions(options: MeterkitPluginOptions): ResolvedPluginOptions {
  if (options === null || typeof options !== 'object') fail('options are required: { metering, identify }.');
  if (typeof options.metering?.meterFor !== 'function' || typeof options.metering.close !== 'function') fail('options.metering must be the engine returned by createMetering().');
  if (typeof options.identify !== 'function') fail('options.identify must be a function of the request.');
  const identifyHook = options.identifyHook ?? 'preHandler';
  if (!IDENTIFY_HOOKS.includes(identifyHook)) fail(`identifyHook must be one of ${IDENTIFY_HOOKS.join(', ')}, got ${JSON.stringify(identifyHook)}.`);
  if (options.manageLifecycle !== undefined && typeof options.manageLifecycle !== 'boolean') fail('manageLifecycle must be a boolean.');
  if (options.onSubscriptionChange !== undefined && typeof options.onSubscriptionChange !== 'function') fail('onSubscriptionChange must be a function of the event.');
  return {
    metering: options.metering,
    identify: options.identify,
    identifyHook,
    commitPolicy: resolveCommitPolicy(options.commitPolicy),
    registration: resolveRegistrationRoute(options.registration),
    lifecycle: resolveLifecycleRoute(options.lifecycle),
    onSubscriptionChange: options.onSubscriptionChange,
    manageLifecycle: options.manageLifecycle ?? true,
    statusPage: resolveStatusPageRoute(options.statusPage),
    entitlementGate: resolveEntitlementGate(options.entitlementGate),
  };
}
