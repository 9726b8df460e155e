import { HttpException, Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { entitlementGate, type EntitlementGate, type Metering } from '@meterkit/core';
import { METERING, METERING_MODULE_OPTIONS, OWN_ROUTE_METADATA } from '../metering.constants';
import type { MeteringModuleOptions } from '../metering-options';

/**
 * Global guard of `entitlementGate`: until RegisterUsage verified the entitlement, every HTTP request except
 * meterkit's own routes is answered with the core's 503 (its headers set here, its body as the exception's).
 */
@Injectable()
export class EntitlementGuard implements CanActivate {
  private readonly gate: EntitlementGate | undefined;

  constructor(
    @Inject(METERING) metering: Metering,
    @Inject(METERING_MODULE_OPTIONS) options: MeteringModuleOptions,
    private readonly reflector: Reflector,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    this.gate = options.entitlementGate === undefined || options.entitlementGate === false ? undefined : entitlementGate(metering);
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.gate === undefined || context.getType() !== 'http') return true;
    if (this.reflector.get<boolean | undefined>(OWN_ROUTE_METADATA, context.getClass()) === true) return true;
    const result = this.gate.check();
    if (result.ok) return true;
    const response = context.switchToHttp().getResponse<unknown>();
    for (const [name, value] of Object.entries(result.headers)) this.adapterHost.httpAdapter.setHeader(response, name, value);
    throw new HttpException(result.body, result.status);
  }
}
