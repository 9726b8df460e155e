import { Controller, HttpException, Inject, Logger, Req, Res, SetMetadata, UseFilters, VERSION_NEUTRAL, type Type } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { handleRegistration, rateLimitedResult, type Metering, type RegistrationResult } from '@meterkit/core';
import { METERING, OWN_ROUTE_METADATA, REGISTRATION_ROUTE } from '../metering.constants';
import { readRegistrationForm } from './registration-form';
import { RegistrationExceptionFilter } from './registration-exception.filter';
import type { RegistrationRoute } from './registration-route';


interface PlatformRequest {
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body?: unknown;
  readonly ip?: string;
  readonly socket?: { readonly remoteAddress?: string };
}

/**
 * A controller class of its own for each MeteringModule: its path is set when the module's options are resolved
 * (see registrationRouteFactory), and it has no route at all when the app configures no registration.
 */
export function createRegistrationController(): Type<unknown> {
  @Controller({ version: VERSION_NEUTRAL })
  @UseFilters(RegistrationExceptionFilter)
  @SetMetadata(OWN_ROUTE_METADATA, true)
  class MarketplaceRegistrationController {
    private readonly logger = new Logger('MeteringRegistration');

    constructor(
      @Inject(REGISTRATION_ROUTE) private readonly route: RegistrationRoute,
      @Inject(METERING) private readonly metering: Metering,
      private readonly adapterHost: HttpAdapterHost,
    ) {}

    async register(@Req() request: PlatformRequest, @Res() response: unknown): Promise<void> {
      const result = await this.answer(request);
      // Nest's idiom: a 4xx HttpException the hook throws on purpose keeps its status (RegistrationExceptionFilter).
      if (result.status === 500 && result.cause instanceof HttpException && result.cause.getStatus() < 500) throw result.cause;
      this.send(response, result);
    }

    private async answer(request: PlatformRequest): Promise<RegistrationResult> {
      const options = this.route.options!;
      if (!this.route.limiter.take(request.ip ?? request.socket?.remoteAddress ?? 'unknown')) {
        return rateLimitedResult();
      }
      const read = readRegistrationForm(request, options.maxBodyBytes);
      if ('refused' in read) return read.refused;
      return handleRegistration(this.metering, read.form, request, options);
    }

    private send(response: unknown, result: RegistrationResult): void {
      const http = this.adapterHost.httpAdapter;
      if (result.status === 500) {
        // The customer is stored before the app's hook runs; the buyer can post the same token again.
        const cause = result.cause;
        this.logger.error(`the registration hook (onRegistered) failed: ${cause instanceof Error ? cause.message : String(cause)}`, cause instanceof Error ? cause.stack : undefined);
      }
      http.setHeader(response, 'cache-control', 'no-store');
      if (result.status === 303) return http.redirect(response, 303, result.location);
      if (result.status === 429) http.setHeader(response, 'retry-after', '60');
      http.reply(response, result.body, result.status);
    }
  }
  return MarketplaceRegistrationController;
}
