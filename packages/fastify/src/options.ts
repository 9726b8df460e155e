import {
  DEFAULT_REGISTRATION_BODY_BYTES,
  ErrorCodes,
  MeterkitError,
  type CommitPolicy,
  type Identified,
  type Metering,
  type RegistrationRouteOptions,
} from '@meterkit/core';
import type { FastifyRequest } from 'fastify';

/** The hooks `identify` can run in. */
export type IdentifyHook = 'onRequest' | 'preValidation' | 'preHandler';

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
  /** Which responses are billed. Default: status below 500, never aborted responses. */
  commitPolicy?: CommitPolicy;
  /** The AWS Marketplace registration (fulfillment URL) route. Default: none. */
  registration?: RegistrationRouteOptions<FastifyRequest>;
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
  readonly manageLifecycle: boolean;
}

const MAX_REGISTRATION_BODY_BYTES = 1_048_576;
const IDENTIFY_HOOKS: readonly IdentifyHook[] = ['onRequest', 'preValidation', 'preHandler'];

function fail(message: string): never {
  throw new MeterkitError(ErrorCodes.OPTIONS, `@meterkit/fastify: ${message}`);
}

function integer(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) fail(`${name} must be an integer between ${min} and ${max}, got ${String(value)}.`);
  return value;
}

function resolveRegistration(registration: RegistrationRouteOptions<FastifyRequest> | undefined): ResolvedRegistration | undefined {
  if (registration === undefined) return undefined;
  if (registration === null || typeof registration !== 'object') fail('registration must be an object with at least `path`.');
  if (typeof registration.path !== 'string' || !registration.path.startsWith('/')) fail('registration.path must be a path starting with "/".');
  if (registration.onRegistered !== undefined && typeof registration.onRegistered !== 'function') fail('registration.onRegistered must be a function.');
  if (registration.redirectTo !== undefined && (typeof registration.redirectTo !== 'string' || registration.redirectTo.length === 0)) {
    fail('registration.redirectTo must be a non-empty URL or path.');
  }
  return {
    ...registration,
    maxBodyBytes: integer('registration.maxBodyBytes', registration.maxBodyBytes, DEFAULT_REGISTRATION_BODY_BYTES, 64, MAX_REGISTRATION_BODY_BYTES),
    rateLimitPerMinute: integer('registration.rateLimitPerMinute', registration.rateLimitPerMinute, 30, 0, 1_000_000),
  };
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
  return {
    metering: options.metering,
    identify: options.identify,
    identifyHook,
    commitPolicy: resolveCommitPolicy(options.commitPolicy),
    registration: resolveRegistration(options.registration),
    manageLifecycle: options.manageLifecycle ?? true,
  };
}
