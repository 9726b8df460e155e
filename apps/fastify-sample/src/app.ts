import type { CommitPolicy, Metering, SubscriptionEvent } from '@meterkit/core';
import { meterkit } from '@meterkit/fastify';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { Tenants, type Tenant } from './tenants';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated tenant of an /v1 request. */
    tenant: Tenant | null;
  }
}

export interface AppConfig {
  /** The metering engine (created from the environment in main.ts, against the emulator in tests). */
  readonly metering: Metering;
  /** Which responses are billed (METERKIT_COMMIT_ON, METERKIT_COMMIT_ABORTED). Default: the adapter's, status below 400. */
  readonly commitPolicy?: CommitPolicy;
  /** Default: an empty tenant list in an in-memory database. */
  readonly tenants?: Tenants;
  /** Default: no logging. */
  readonly logger?: FastifyServerOptions['logger'];
  /** Where AWS Marketplace posts new buyers. Default '/marketplace/register'. */
  readonly registrationPath?: string;
  /** The secret the EventBridge connection sends in x-api-key. Default: no lifecycle route. */
  readonly eventsSecret?: string;
  /** Serve on a server you created (tests start it before the emulator, which needs its URL). Default: Fastify's own. */
  readonly serverFactory?: FastifyServerOptions['serverFactory'];
}

/** Where the EventBridge API destination (or the emulator) delivers subscription lifecycle events. */
export const EVENTS_PATH = '/marketplace/events';

/** A subscription that is ending revokes the tenant's API keys at once; its final usage is still billed. */
function revokeOnEnd(tenants: Tenants, log: FastifyInstance['log']) {
  return (event: SubscriptionEvent): void => {
    if ((event.change !== 'deprovisioning' && event.change !== 'ended') || event.customer.tenantId === undefined) return;
    const revoked = tenants.revokeApiKeys(event.customer.tenantId);
    if (revoked > 0) log.info({ tenant: event.customer.tenantId, change: event.change }, 'subscription ending: API keys revoked');
  };
}

const GB = 1_000_000_000;

interface ProcessBody {
  files: Array<{ name: string; sizeBytes: number }>;
}

const processSchema = {
  body: {
    type: 'object',
    required: ['files'],
    additionalProperties: false,
    properties: {
      files: {
        type: 'array',
        minItems: 1,
        maxItems: 100,
        items: {
          type: 'object',
          required: ['name', 'sizeBytes'],
          additionalProperties: false,
          properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, sizeBytes: { type: 'integer', minimum: 0, maximum: 1e15 } },
        },
      },
    },
  },
} as const;

function apiKeyOf(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  if (authorization?.startsWith('Bearer ')) return authorization.slice('Bearer '.length).trim();
  const header = request.headers['x-api-key'];
  return typeof header === 'string' ? header : undefined;
}

function error(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).send({ error: { code, message } });
}

/** The tenants' API: authenticated with an API key, every call billed as api_calls. */
async function api(app: FastifyInstance, tenants: Tenants): Promise<void> {
  app.addHook('onRequest', async (request, reply) => {
    const key = apiKeyOf(request);
    const tenant = key === undefined ? undefined : tenants.authenticate(key);
    if (tenant === undefined) return error(reply, 401, 'UNAUTHORIZED', 'Send your API key as "Authorization: Bearer <key>" or "x-api-key".');
    request.tenant = tenant;
  });

  app.get('/v1/reports', { config: { metering: { dimension: 'api_calls' } } }, async (request) => ({
    tenant: request.tenant?.name,
    reports: [{ id: 'r-1', title: 'Monthly usage' }],
  }));

  app.post<{ Body: ProcessBody }>('/v1/process', { schema: processSchema, config: { metering: { dimension: 'api_calls' } } }, async (request) => {
    const bytes = request.body.files.reduce((sum, file) => sum + file.sizeBytes, 0);
    const gigabytes = Math.ceil(bytes / GB);
    request.meter?.record('gb_processed', gigabytes);
    return { files: request.body.files.length, gbProcessed: gigabytes };
  });
}

/** Builds the sample SaaS API; call `listen()` (main.ts) or `inject()` (tests) on the result. */
export async function buildApp(config: AppConfig): Promise<FastifyInstance> {
  const tenants = config.tenants ?? new Tenants();
  const app = Fastify({ logger: config.logger ?? false, ...(config.serverFactory === undefined ? {} : { serverFactory: config.serverFactory }) });
  app.decorateRequest('tenant', null);

  await app.register(meterkit, {
    metering: config.metering,
    identify: (request) => request.tenant?.id,
    // After the API key check (an onRequest hook), before the body is validated: the commit policy then decides
    // whether a request refused for its body (400) is billed (METERKIT_COMMIT_ON).
    identifyHook: 'preValidation',
    ...(config.commitPolicy === undefined ? {} : { commitPolicy: config.commitPolicy }),
    registration: {
      path: config.registrationPath ?? '/marketplace/register',
      onRegistered: () => {
        const created = tenants.create('AWS Marketplace buyer');
        return { tenantId: created.tenant.id, redirect: `/welcome?ref=${tenants.issueWelcome(created)}` };
      },
    },
    ...(config.eventsSecret === undefined ? {} : { lifecycle: { path: EVENTS_PATH, secret: config.eventsSecret }, onSubscriptionChange: revokeOnEnd(tenants, app.log) }),
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const status = err.statusCode ?? 500;
    if (status < 500) return error(reply, status, err.code ?? 'BAD_REQUEST', err.message);
    request.log.error({ err }, 'request failed');
    return error(reply, 500, 'INTERNAL', 'Something went wrong on our side.');
  });

  app.get('/health', async () => ({ ok: true }));

  app.get<{ Querystring: { ref: string } }>(
    '/welcome',
    { schema: { querystring: { type: 'object', required: ['ref'], properties: { ref: { type: 'string', minLength: 1, maxLength: 100 } } } } },
    async (request, reply) => {
      const welcome = tenants.redeemWelcome(request.query.ref);
      if (welcome === undefined) return error(reply, 404, 'WELCOME_NOT_FOUND', 'This welcome link was already used or has expired.');
      reply.header('cache-control', 'no-store');
      return { tenantId: welcome.tenant.id, apiKey: welcome.apiKey, message: 'Keep this API key: it is shown only once.' };
    },
  );

  await app.register(async (child) => api(child, tenants));
  return app;
}
