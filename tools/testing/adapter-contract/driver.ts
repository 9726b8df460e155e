import type { LifecycleRouteOptions, Metering, RegistrationRouteOptions, RequestMeter, SubscriptionEvent } from '@meterkit/core';
import type { Server } from 'node:http';

/** The dimension every contract product has; `NO_SUCH_DIMENSION` is one it does not have. */
export const DIMENSION = 'api_calls';
export const NO_SUCH_DIMENSION = 'no_such_dimension';
/** The header the contract's `identify` reads the tenant from. */
export const TENANT_HEADER = 'x-tenant';

/**
 * What every contract app is built with: meterkit on `metering` (the adapter's defaults for everything else, its
 * engine lifecycle managed by the adapter), `identify` reading the tenant from `x-tenant`, and the routes below.
 */
export interface ContractAppOptions {
  readonly metering: Metering;
  readonly registration?: RegistrationRouteOptions<any>;
  readonly lifecycle?: LifecycleRouteOptions;
  readonly statusPage?: { readonly token: string };
  /** The adapter's `onSubscriptionChange` hook. Default none. */
  readonly onSubscriptionChange?: (event: SubscriptionEvent) => void | Promise<void>;
  /** The dimension `/counted` declares at the route level. Default `DIMENSION`. */
  readonly countedDimension?: string;
  /** Routes that let through only buyers holding an entitlement, each declared in the framework's idiom. Default none. */
  readonly entitled?: readonly EntitledRoute[];
}

/**
 * GET `path`, requiring `dimension` (at least `atLeast`) with the adapter's per-route entitlement check (Express
 * `mk.requireEntitlement()`, Fastify `config.metering.entitlement`, Nest `@RequireEntitlement()`); the handler
 * answers 200 `{ meter: describeMeter(meter) }`.
 */
export interface EntitledRoute {
  readonly path: string;
  readonly dimension: string;
  readonly atLeast?: number;
}

/**
 * The app's own routes, written in the framework's idiom, all behind meterkit:
 * - GET /work: the handler records 1 `api_calls` on the request's meter when it has one, answers 200
 *   `{ meter: describeMeter(meter) }`.
 * - GET /answer/:status: the handler records 1 `api_calls` when metered, answers `status` with `{}`.
 * - GET /counted: 1 unit of `countedDimension` declared at the route level (Express `mk.count()`, Fastify
 *   `config.metering`, Nest `@Metered()`), the handler answers 200 `{}`.
 * - GET /free: records nothing, answers 200 `{ meter: describeMeter(meter) }`.
 * - GET /typo: the handler calls `meter.record(NO_SUCH_DIMENSION, 1)` when metered (which throws), else answers 200.
 */
export interface ContractApp {
  /** Errors that reached the framework's own error handling (its error middleware, error handler or exception filter). */
  readonly errors: unknown[];
  /**
   * What the adapter logged at error level, one entry per line, through the logger the framework gives it (Express
   * `console.error`, Fastify the app's logger, Nest the app's logger); kept from the test output.
   */
  readonly logged: string[];
  /** The URL (path and query) of each request `identify` ran for, in order. */
  readonly identified: string[];
  /** Shuts the app down the framework's way (Express: the middleware's close(); Fastify and Nest: app.close()). */
  close(): Promise<void>;
}

export interface AdapterDriver {
  /** e.g. 'express', 'nest on fastify'. */
  readonly name: string;
  /**
   * Builds the app and serves it on `server`, which already listens (the emulator delivers events to its URL).
   * Rejects, with the app closed, when the framework refuses to start it.
   */
  start(server: Server, options: ContractAppOptions): Promise<ContractApp>;
}

/** What a handler reports about its request's meter: the unmetered value is the contract's `null`. */
export function describeMeter(meter: RequestMeter | null | undefined): 'bound' | 'null' | 'undefined' {
  if (meter === null) return 'null';
  if (meter === undefined) return 'undefined';
  return 'bound';
}
