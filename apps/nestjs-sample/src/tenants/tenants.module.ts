import { Module, type DynamicModule } from '@nestjs/common';
import { TENANTS_OPTIONS, TenantsService, type TenantsOptions } from './tenants.service';

@Module({})
export class TenantsModule {
  /** Import the one returned module everywhere the service is needed: each call makes its own database connection. */
  static register(options: TenantsOptions = {}): DynamicModule {
    return { module: TenantsModule, providers: [{ provide: TENANTS_OPTIONS, useValue: options }, TenantsService], exports: [TenantsService] };
  }
}
