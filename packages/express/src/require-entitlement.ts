import { checkRouteEntitlement, resolveEntitlementRequirement, type Metering, type RequireEntitlementOptions } from '@meterkit/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import './request';

/**
 * Route middleware letting through only buyers whose contract includes `dimension` (at least `atLeast` of it):
 * others get the core's 403 ERR_METERKIT_ENTITLEMENT_REQUIRED, and 503 ERR_METERKIT_STORE when the buyer could not be
 * looked up. Mount it after meterkit, which binds `req.meter`. Checked when the route is declared: a dimension no
 * contract product lists in `entitlements` throws ERR_METERKIT_UNKNOWN_DIMENSION.
 */
export function requireEntitlement(metering: Metering, dimension: string, options?: RequireEntitlementOptions): RequestHandler {
  const requirement = resolveEntitlementRequirement(metering, dimension, options, `requireEntitlement(${JSON.stringify(dimension)})`);
  return function meterkitRequireEntitlement(req: Request, res: Response, next: NextFunction): void {
    const result = checkRouteEntitlement(req.meter, req.meteringError, requirement);
    if (result.ok) return next();
    res.status(result.status).set(result.headers).json(result.body);
  };
}
