import type { Metering, RequireEntitlementOptions } from '@meterkit/core';
import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { attachMeter } from './attach-meter';
import { count } from './count';
import { entitlementGateMiddleware } from './entitlement-gate';
import { lifecycleRoute } from './lifecycle-route';
import { resolveOptions, type MeterkitOptions } from './options';
import { registrationRoute } from './registration-route';
import { registerAtStartup } from './register-at-startup';
import { requireEntitlement } from './require-entitlement';
import { statusPageRoute } from './status-page-route';
import { subscribeHook } from './subscription-hook';

/**
 * `app.use(metering)`: attaches `req.meter`, serves the registration, lifecycle and status routes, gates traffic
 * on the entitlement when asked, and manages the core's timers.
 */
export interface MeterkitMiddleware extends RequestHandler {
  /**
   * Route middleware counting `quantity` (default 1) units of `dimension` for every request through it. Throws
   * ERR_METERKIT_UNKNOWN_DIMENSION when no configured product has `dimension`, so a typo stops the app at startup.
   */
  count(dimension: string, quantity?: number): RequestHandler;
  /**
   * Route middleware for contract products: only buyers whose contract includes `dimension` (at least `atLeast` of
   * a numeric one) get through; others get 403 ERR_METERKIT_ENTITLEMENT_REQUIRED. Throws
   * ERR_METERKIT_UNKNOWN_DIMENSION when no contract product lists `dimension` in its `entitlements`.
   */
  requireEntitlement(dimension: string, options?: RequireEntitlementOptions): RequestHandler;
  /** Stops the core's timers and persists all usage; rejects with ERR_METERKIT_NOT_PERSISTED if it could not. */
  close(): Promise<void>;
  /** The core engine this middleware meters into. */
  readonly metering: Metering;
}

/**
 * Creates the Express middleware for a core `Metering` instance. Options are validated here, once
 * (ERR_METERKIT_OPTIONS); the core's scheduler is started unless `start: false`.
 */
export function meterkit(metering: Metering, options: MeterkitOptions): MeterkitMiddleware {
  const resolved = resolveOptions(options);
  const router = Router();
  if (resolved.registration !== undefined) router.post(resolved.registration.path, registrationRoute(metering, resolved.registration));
  if (resolved.lifecycle !== undefined) router.post(resolved.lifecycle.path, lifecycleRoute(metering, resolved.lifecycle));
  const status = resolved.statusPage === undefined ? undefined : statusPageRoute(metering, resolved.statusPage);
  if (status !== undefined) router.use(status.handler);
  if (resolved.entitlementGate !== undefined) router.use(entitlementGateMiddleware(metering));
  const unsubscribe = resolved.onSubscriptionChange === undefined ? () => undefined : subscribeHook(metering, resolved.onSubscriptionChange);
  const attach = attachMeter(metering, resolved);
  router.use(attach);
  if (resolved.start) metering.start();
  if (resolved.entitlementGate?.register === true) registerAtStartup(metering);

  // Without routes or a gate, requests go straight to attachMeter instead of through a router of one layer.
  const routed = resolved.registration !== undefined || resolved.lifecycle !== undefined || status !== undefined || resolved.entitlementGate !== undefined;
  const middleware = routed
    ? function meterkitMiddleware(req: Request, res: Response, next: NextFunction): void {
        router(req, res, next);
      }
    : attach;
  return Object.assign(middleware, {
    count: (dimension: string, quantity?: number) => count(metering, dimension, quantity),
    requireEntitlement: (dimension: string, options?: RequireEntitlementOptions) => requireEntitlement(metering, dimension, options),
    close: () => {
      unsubscribe();
      status?.page.close();
      return metering.close();
    },
    metering,
  });
}
