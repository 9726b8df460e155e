import { ErrorCodes, MeterkitError } from '../errors';
import type { LifecycleRouteOptions } from '../lifecycle/lifecycle-receiver';
import type { CommitPolicy } from './commit-policy';
import { DEFAULT_REGISTRATION_BODY_BYTES, type RegistrationRouteOptions } from './registration-route';

/** Checks of the route options every adapter takes, with their defaults: one place, the same messages everywhere. */

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const STATUS_PATH = /^\/[A-Za-z0-9._~/-]*$/;
const MAX_BODY_BYTES = 1_048_576;

function fail(message: string): never {
  throw new MeterkitError(ErrorCodes.OPTIONS, message);
}

function integer(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(`${name} must be an integer between ${min} and ${max}, got ${String(value)}.`);
  }
  return value;
}

function routePath(name: string, path: unknown): void {
  if (typeof path !== 'string' || !path.startsWith('/')) fail(`${name}.path must start with "/", got ${JSON.stringify(path)}.`);
}

export type ResolvedRegistrationRoute<T> = T & { readonly maxBodyBytes: number; readonly rateLimitPerMinute: number };

/** `registration`: path, hook and redirect checked; maxBodyBytes defaults to 16 384, rateLimitPerMinute to 30. */
export function resolveRegistrationRoute<T extends RegistrationRouteOptions<never>>(options: T | undefined): ResolvedRegistrationRoute<T> | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== 'object') fail('registration must be an object with at least `path`.');
  routePath('registration', options.path);
  if (options.onRegistered !== undefined && typeof options.onRegistered !== 'function') fail('registration.onRegistered must be a function.');
  if (options.redirectTo !== undefined && (typeof options.redirectTo !== 'string' || options.redirectTo.length === 0)) {
    fail('registration.redirectTo must be a non-empty URL or path.');
  }
  return {
    ...options,
    maxBodyBytes: integer('registration.maxBodyBytes', options.maxBodyBytes, DEFAULT_REGISTRATION_BODY_BYTES, 64, MAX_BODY_BYTES),
    rateLimitPerMinute: integer('registration.rateLimitPerMinute', options.rateLimitPerMinute, 30, 0, 1_000_000),
  };
}

/** `lifecycle`: path and header name checked; maxBodyBytes defaults to 65 536 (the secret is checked by the receiver). */
export function resolveLifecycleRoute<T extends LifecycleRouteOptions>(options: T | undefined): (T & { readonly maxBodyBytes: number }) | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== 'object') fail('lifecycle must be an object with at least `path` and `secret` (or `sns`).');
  routePath('lifecycle', options.path);
  if (options.headerName !== undefined && (typeof options.headerName !== 'string' || !HEADER_NAME.test(options.headerName))) {
    fail('lifecycle.headerName must be an HTTP header name.');
  }
  return { ...options, maxBodyBytes: integer('lifecycle.maxBodyBytes', options.maxBodyBytes, 65_536, 1024, MAX_BODY_BYTES) };
}

/** `statusPage`: the path checked (token, guard and recentErrors are checked by StatusPage itself). */
export function resolveStatusPageRoute<T extends { readonly path?: string }>(options: T | undefined): T | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== 'object') fail('statusPage must be an object with a `token` or a `guard`.');
  if (options.path !== undefined && (typeof options.path !== 'string' || !STATUS_PATH.test(options.path))) {
    fail(`statusPage.path must start with "/" and use only letters, digits and / . _ ~ -, got ${JSON.stringify(options.path)}.`);
  }
  return options;
}

export interface EntitlementGateOptions {
  /** Call metering.registerUsage() when the app starts, without delaying the start. Default false. */
  readonly register?: boolean;
}

/** `entitlementGate`: `true` or `{ register }`; off when absent or false. */
export function resolveEntitlementGate(option: boolean | EntitlementGateOptions | undefined): Required<EntitlementGateOptions> | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === true) return { register: false };
  if (option === null || typeof option !== 'object') fail('entitlementGate must be a boolean or { register?: boolean }.');
  if (option.register !== undefined && typeof option.register !== 'boolean') fail('entitlementGate.register must be a boolean.');
  return { register: option.register ?? false };
}

const warned = new Set<string>();

/**
 * Logs once per process (a `DeprecationWarning`, code METERKIT_DEPRECATED_OPTION) that `adapter` got an option under
 * its old name. The old names are accepted for this release only (docs/decisions.md, "Adapter contract").
 */
export function warnDeprecatedOption(adapter: string, oldName: string, newName: string): void {
  const key = `${adapter}:${oldName}`;
  if (warned.has(key)) return;
  warned.add(key);
  process.emitWarning(`${adapter}: the option \`${oldName}\` is deprecated and will be removed in the next release; use \`${newName}\`.`, {
    type: 'DeprecationWarning',
    code: 'METERKIT_DEPRECATED_OPTION',
  });
}

/**
 * `commitPolicy` (`{ commitOn, commitAborted }`), the one name in every adapter. `legacy` is what an adapter still
 * accepts under an older name (Express's top-level `commitOn`/`commitAborted`); given both, `commitPolicy` wins.
 */
export function resolveCommitPolicy(policy: CommitPolicy | undefined, legacy: CommitPolicy = {}): CommitPolicy {
  if (policy !== undefined && (policy === null || typeof policy !== 'object')) fail('commitPolicy must be an object { commitOn?, commitAborted? }.');
  const merged: CommitPolicy = { ...legacy, ...(policy ?? {}) };
  if (merged.commitOn !== undefined && typeof merged.commitOn !== 'function') fail('commitPolicy.commitOn must be a function (statusCode) => boolean.');
  if (merged.commitAborted !== undefined && typeof merged.commitAborted !== 'boolean') fail('commitPolicy.commitAborted must be a boolean.');
  return {
    ...(merged.commitOn === undefined ? {} : { commitOn: merged.commitOn }),
    ...(merged.commitAborted === undefined ? {} : { commitAborted: merged.commitAborted }),
  };
}

/** `manageLifecycle`, the one name in every adapter: start the engine with the app, persist and close it on shutdown. Default true. */
export function resolveManageLifecycle(value: unknown, name = 'manageLifecycle'): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'boolean') fail(`${name} must be a boolean.`);
  return value;
}
