import { Logger, Module, type DynamicModule } from '@nestjs/common';
import type { CommitPolicy, MeteringOptions, SubscriptionEvent } from '@meterkit/core';
import { MeteringModule } from '@meterkit/nestjs';
import { ProcessController } from './api/process.controller';
import { ReportsController } from './api/reports.controller';
import type { TenantRequest } from './auth/tenant-request';
import { HealthController } from './health.controller';
import { marketplaceSignup } from './tenants/marketplace-signup';
import { TenantsModule } from './tenants/tenants.module';
import { TenantsService } from './tenants/tenants.service';
import { WelcomeController } from './welcome/welcome.controller';

export interface AppOptions {
  /** Core metering options: the emulator or AWS (see config/metering-target.ts). */
  readonly metering: MeteringOptions;
  /** Which responses are billed (METERKIT_COMMIT_ON, METERKIT_COMMIT_ABORTED). Default: the module's, status below 400. */
  readonly commitPolicy?: CommitPolicy;
  /** Where AWS Marketplace posts new buyers. Default '/marketplace/register'. */
  readonly registrationPath?: string;
  /** The secret the EventBridge connection sends in x-api-key. Default: no lifecycle route. */
  readonly eventsSecret?: string;
  /** The SQLite file of tenants and API key digests. Default: in memory (main.ts passes METERKIT_APP_DB, default ./app.db). */
  readonly appDb?: string;
}

/** Where the EventBridge API destination (or the emulator) delivers subscription lifecycle events. */
export const EVENTS_PATH = '/marketplace/events';

/** A subscription that is ending revokes the tenant's API keys at once; its final usage is still billed. */
function revokeOnEnd(tenants: TenantsService) {
  const logger = new Logger('Subscriptions');
  return (event: SubscriptionEvent): void => {
    if ((event.change !== 'deprovisioning' && event.change !== 'ended') || event.customer.tenantId === undefined) return;
    if (tenants.revokeApiKeys(event.customer.tenantId) > 0) logger.log(`subscription ${event.change}: API keys of tenant ${event.customer.tenantId} revoked`);
  };
}

@Module({})
export class AppModule {
  static register(options: AppOptions): DynamicModule {
    const tenants = TenantsModule.register(options.appDb === undefined ? {} : { file: options.appDb });
    return {
      module: AppModule,
      imports: [
        tenants,
        MeteringModule.forRootAsync({
          isGlobal: true,
          imports: [tenants],
          inject: [TenantsService],
          useFactory: (tenants: TenantsService) => ({
            ...options.metering,
            identify: (request: TenantRequest) => request.tenant?.id,
            ...(options.commitPolicy === undefined ? {} : { commitPolicy: options.commitPolicy }),
            registration: { path: options.registrationPath ?? '/marketplace/register', onRegistered: marketplaceSignup(tenants) },
            ...(options.eventsSecret === undefined ? {} : { lifecycle: { path: EVENTS_PATH, secret: options.eventsSecret }, onSubscriptionChange: revokeOnEnd(tenants) }),
          }),
        }),
      ],
      controllers: [HealthController, WelcomeController, ReportsController, ProcessController],
    };
  }
}
