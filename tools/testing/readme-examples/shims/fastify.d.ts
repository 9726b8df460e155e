// The application around @meterkit/fastify's README examples.
declare module 'fastify' {
  interface FastifyRequest {
    user?: { tenantId: string; isAdmin: boolean };
    tenantId?: string;
  }
}
declare global {
  type RequestMeter = import('@meterkit/core').RequestMeter;
  type MeterkitError = import('@meterkit/core').MeterkitError;
  type RouteMetering = import('@meterkit/fastify').RouteMetering;
  const createMetering: typeof import('@meterkit/core').createMetering;
  const meterkit: typeof import('@meterkit/fastify').meterkit;
  const metering: import('@meterkit/core').Metering;
  const identify: NonNullable<import('@meterkit/fastify').MeterkitPluginOptions['identify']>;
  const app: import('fastify').FastifyInstance;
  const fastify: import('fastify').FastifyInstance;
  const handler: import('fastify').RouteHandlerMethod;
  function createTenant(): Promise<{ id: string; welcomeRef: string }>;
  function listReports(): Promise<unknown[]>;
  function processFiles(body: unknown): Promise<number>;
  function revokeAccess(tenantId: string | undefined): Promise<void>;
}
export {};
