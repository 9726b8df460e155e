import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { createMetering, type Metering } from '@meterkit/core';
import { LIFECYCLE_ROUTE, METERING, METERING_MODULE_OPTIONS, REGISTRATION_ROUTE, STATUS_PAGE_ROUTE } from './metering.constants';
import { ASYNC_OPTIONS_TYPE, ConfigurableModuleClass, OPTIONS_TYPE } from './metering.module-definition';
import { coreOptionsOf, validateAdapterOptions, type MeteringModuleOptions } from './metering-options';
import { MeteringService } from './metering.service';
import { RequestMetering } from './request-metering';
import { createLifecycleController } from './lifecycle/lifecycle.controller';
import { lifecycleRouteFactory } from './lifecycle/lifecycle-route';
import { createRegistrationController } from './registration/registration.controller';
import { registrationRouteFactory } from './registration/registration-route';
import { EntitlementGuard } from './entitlement/entitlement.guard';
import { createStatusPageController } from './status-page/status-page.controller';
import { statusPageRouteFactory } from './status-page/status-page-route';
import { RouteDeclarationsCheck } from './route-check/route-declarations.check';
import { MeterGuardPlacement } from './meter-guard/meter-guard-placement';

function meteringOf(options: MeteringModuleOptions): Metering {
  validateAdapterOptions(options);
  return options.metering ?? createMetering(coreOptionsOf(options));
}

/** `gated` false: no entitlement gate is configured, so no global guard runs on every request. */
function withMetering(definition: DynamicModule, gated: boolean): DynamicModule {
  const controller = createRegistrationController();
  const lifecycleController = createLifecycleController();
  const statusPageController = createStatusPageController();
  const providers: Provider[] = [
    { provide: METERING, useFactory: meteringOf, inject: [METERING_MODULE_OPTIONS] },
    { provide: REGISTRATION_ROUTE, useFactory: registrationRouteFactory(controller, 'register'), inject: [METERING_MODULE_OPTIONS] },
    { provide: LIFECYCLE_ROUTE, useFactory: lifecycleRouteFactory(lifecycleController, 'receive'), inject: [METERING_MODULE_OPTIONS, METERING] },
    { provide: STATUS_PAGE_ROUTE, useFactory: statusPageRouteFactory(statusPageController, { html: 'html', json: 'json', login: 'login' }), inject: [METERING_MODULE_OPTIONS, METERING] },
    MeteringService,
    RequestMetering,
    RouteDeclarationsCheck,
    MeterGuardPlacement,
    ...(gated ? [{ provide: APP_GUARD, useClass: EntitlementGuard }] : []),
  ];
  return {
    ...definition,
    imports: [...(definition.imports ?? []), DiscoveryModule],
    controllers: [...(definition.controllers ?? []), controller, lifecycleController, statusPageController],
    providers: [...(definition.providers ?? []), ...providers],
    exports: [...(definition.exports ?? []), METERING, MeteringService, RequestMetering],
  };
}

/**
 * AWS Marketplace metering for a Nest app: `forRoot(options)` or `forRootAsync({ imports, inject, useFactory })`.
 * Provides `MeteringService` and the core `Metering` (`@InjectMetering()`), meters the routes that declare it
 * (`@Metered()`, `@Meter()`, `@RequireEntitlement()`) through a route guard run after the app's own, serves the registration, lifecycle and status routes when `registration` / `lifecycle` / `statusPage`
 * are configured, and gates traffic on the entitlement with `entitlementGate`.
 */
@Module({})
export class MeteringModule extends ConfigurableModuleClass {
  static override forRoot(options: typeof OPTIONS_TYPE): DynamicModule {
    return withMetering(super.forRoot(options), options.entitlementGate !== undefined && options.entitlementGate !== false);
  }

  static override forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    // The options are known only once the factory ran: the guard checks them then.
    return withMetering(super.forRootAsync(options), true);
  }
}
