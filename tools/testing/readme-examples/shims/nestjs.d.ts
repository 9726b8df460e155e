// The application around @meterkit/nestjs's README examples.
import type { CustomerRecord, MeteringOptions } from '@meterkit/core';
import type { MeteringModuleOptions } from '@meterkit/nestjs';

declare module 'express-serve-static-core' {
  interface Request {
    user?: { tenantId: string; isAdmin: boolean };
    tenant?: { id: string };
  }
}
declare global {
  const Module: typeof import('@nestjs/common').Module;
  const Controller: typeof import('@nestjs/common').Controller;
  const Get: typeof import('@nestjs/common').Get;
  const Post: typeof import('@nestjs/common').Post;
  const Body: typeof import('@nestjs/common').Body;
  const UseGuards: typeof import('@nestjs/common').UseGuards;
  const NestFactory: typeof import('@nestjs/core').NestFactory;
  const MeteringModule: typeof import('@meterkit/nestjs').MeteringModule;
  const coreOptions: MeteringOptions;
  const core: MeteringOptions;
  const identify: MeteringModuleOptions['identify'];
  const onRegistered: NonNullable<Exclude<MeteringModuleOptions['registration'], undefined>>['onRegistered'];
  const tenants: { revokeAccess(tenantId: string | undefined): Promise<void> };
  class ConfigModule {}
  class TenantsModule {}
  class AppModule {}
  class ApiKeyGuard {}
  class ConfigService {
    get(key: string): string;
  }
  class TenantsService {
    createFor(customerKey: string): Promise<{ id: string }>;
  }
  class ReportsService {
    exportAll(): Promise<unknown[]>;
  }
  interface Job {
    bytes: number;
  }
}
