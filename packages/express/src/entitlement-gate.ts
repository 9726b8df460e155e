import { entitlementGate, type Metering } from '@meterkit/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/** Answers every request with the core's 503 (pending or refused) until RegisterUsage verified the entitlement. */
export function entitlementGateMiddleware(metering: Metering): RequestHandler {
  const gate = entitlementGate(metering);
  return function meterkitEntitlementGate(_req: Request, res: Response, next: NextFunction): void {
    const result = gate.check();
    if (result.ok) return next();
    res.status(result.status).set(result.headers).json(result.body);
  };
}
