import { Module, type DynamicModule } from '@nestjs/common';
import type { MeteringOptions } from '@meterkit/core';
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
  /** Where AWS Marketplace posts new buyers. Default '/marketplace/register'. */
  readonly registrationPath?: string;
}

@Module({})
export class AppModule {
  static register(options: AppOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        TenantsModule,
        MeteringModule.forRootAsync({
          isGlobal: true,
          imports: [TenantsModule],
          inject: [TenantsService],
          useFactory: (tenants: TenantsService) => ({
            ...options.metering,
            identify: (request: TenantRequest) => request.tenant?.id,
            registration: { path: options.registrationPath ?? '/marketplace/register', onRegistered: marketplaceSignup(tenants) },
          }),
        }),
      ],
      controllers: [HealthController, WelcomeController, ReportsController, ProcessController],
    };
  }
}
