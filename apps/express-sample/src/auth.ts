import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Tenant, TenantRegistry } from './tenants';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The tenant whose API key authenticated this request. */
      tenant?: Tenant;
    }
  }
}

/** The API key from `Authorization: Bearer <key>` or `x-api-key`. */
export function apiKeyOf(req: Request): string | undefined {
  const authorization = req.get('authorization');
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match?.[1];
  }
  return req.get('x-api-key');
}

/** Sets `req.tenant` when the request carries a valid API key; requests without one continue anonymously. */
export function authenticate(tenants: TenantRegistry): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    const tenant = tenants.authenticate(apiKeyOf(req));
    if (tenant !== undefined) req.tenant = tenant;
    next();
  };
}

export function requireTenant(req: Request, res: Response, next: NextFunction): void {
  if (req.tenant !== undefined) return next();
  res.set('WWW-Authenticate', 'Bearer').status(401).json({ error: { code: 'UNAUTHENTICATED', message: 'Send your API key as "Authorization: Bearer <key>" or "x-api-key".' } });
}
