// The application around @meterkit/express's README examples.
declare namespace Express {
  interface Request {
    user?: { tenantId: string; isAdmin: boolean };
    tenant?: { id: string };
  }
}
declare const createMetering: typeof import('@meterkit/core').createMetering;
declare const meterkit: typeof import('@meterkit/express').meterkit;
declare const core: import('@meterkit/core').Metering;
declare const app: import('express').Express;
declare const authenticate: import('express').RequestHandler;
declare const tenants: { createFor(customer: import('@meterkit/core').CustomerRecord): Promise<{ id: string; welcomeRef: string }> };
declare function listReports(): unknown[];
declare function runExport(body: unknown): number;
declare function revokeAccess(tenantId: string | undefined): Promise<void>;
