import { mask, type CommitPolicy, type CustomerRecord, type Metering, type SubscriptionEvent } from '@meterkit/core';
import { meterkit, type MeterkitMiddleware, type RegisteredAction } from '@meterkit/express';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { apiRouter } from './api';
import { authenticate } from './auth';
import { SEATS } from './products';
import { TenantRegistry } from './tenants';
import { welcomePage } from './welcome';

export const REGISTRATION_PATH = '/marketplace/register';
/** Where the EventBridge API destination (or the emulator) delivers subscription lifecycle events. */
export const EVENTS_PATH = '/marketplace/events';

export interface SampleConfig {
  /** The core engine, created by the caller (main.ts reads the environment, tests point it at an emulator). */
  readonly metering: Metering;
  /** Which responses are billed (METERKIT_COMMIT_ON, METERKIT_COMMIT_ABORTED). Default: the adapter's, status below 400. */
  readonly commitPolicy?: CommitPolicy;
  /** Default: a new, empty registry in an in-memory database. */
  readonly tenants?: TenantRegistry;
  /** Registration posts per client address per minute. Default 30. */
  readonly registrationRateLimit?: number;
  /** The secret the EventBridge connection sends in x-api-key. Default: no lifecycle route. */
  readonly eventsSecret?: string;
  /** Start the core's persist and flush timers. Default true. */
  readonly startScheduler?: boolean;
}

export interface SampleApp {
  readonly app: Express;
  readonly mk: MeterkitMiddleware;
  readonly tenants: TenantRegistry;
}

function accountOf(customer: CustomerRecord): string | undefined {
  return 'customerAwsAccountId' in customer.identity ? customer.identity.customerAwsAccountId : undefined;
}

/**
 * After AWS Marketplace resolved a buyer: reuse its tenant or create one, issue an API key, and send the browser
 * to a one-time welcome page. A repeated post of the same link issues a new key (the old one stops working).
 */
function onRegistered(tenants: TenantRegistry) {
  return (customer: CustomerRecord): RegisteredAction => {
    const tenant = tenants.forCustomer(customer.key) ?? tenants.create(`AWS account ${mask(accountOf(customer)) ?? ''}`.trim(), customer.key);
    const apiKey = tenants.issueApiKey(tenant.id);
    return { tenantId: tenant.id, redirect: `/welcome?ref=${tenants.offerWelcome(tenant.id, apiKey)}` };
  };
}

/** A subscription that is ending revokes the tenant's API key at once; its final usage is still sent. */
function onSubscriptionChange(tenants: TenantRegistry) {
  return (event: SubscriptionEvent): void => {
    if (event.change !== 'deprovisioning' && event.change !== 'ended') return;
    const tenant = event.customer.tenantId === undefined ? tenants.forCustomer(event.customer.key) : tenants.get(event.customer.tenantId);
    if (tenant !== undefined && tenants.revokeApiKey(tenant.id)) console.log(`subscription ${event.change}: API key of tenant ${tenant.id} revoked`);
  };
}

function errorHandler(error: Error & { status?: number; expose?: boolean }, _req: Request, res: Response, _next: NextFunction): void {
  if (error.expose === true && error.status !== undefined && error.status < 500) {
    res.status(error.status).json({ error: { code: 'BAD_REQUEST', message: error.message } });
    return;
  }
  res.status(500).json({ error: { code: 'INTERNAL', message: 'Something went wrong on our side.' } });
}

/** Builds the sample SaaS API. */
export function buildApp(config: SampleConfig): SampleApp {
  const tenants = config.tenants ?? new TenantRegistry();
  const mk = meterkit(config.metering, {
    identify: (req) => req.tenant?.id,
    ...(config.commitPolicy === undefined ? {} : { commitPolicy: config.commitPolicy }),
    registration: {
      path: REGISTRATION_PATH,
      onRegistered: onRegistered(tenants),
      ...(config.registrationRateLimit === undefined ? {} : { rateLimitPerMinute: config.registrationRateLimit }),
    },
    ...(config.eventsSecret === undefined ? {} : { lifecycle: { path: EVENTS_PATH, secret: config.eventsSecret }, onSubscriptionChange: onSubscriptionChange(tenants) }),
    manageLifecycle: config.startScheduler ?? true,
  });

  const app = express();
  app.disable('x-powered-by');
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/welcome', welcomePage(tenants));
  app.use(authenticate(tenants));
  app.use(mk);
  app.use('/v1', apiRouter(mk, { team: config.metering.hasEntitlement(SEATS) }));
  app.use(errorHandler);
  return { app, mk, tenants };
}
