import { Catch, Controller, HttpException, Inject, Logger, Req, Res, SetMetadata, UseFilters, VERSION_NEUTRAL, type ArgumentsHost, type ExceptionFilter, type Type } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ErrorCodes, type LifecycleResult } from '@meterkit/core';
import { LIFECYCLE_ROUTE, OWN_ROUTE_METADATA, UNMETERED_METADATA } from '../metering.constants';
import { readDeliveryBody, type PlatformRequest } from './lifecycle-body';
import type { LifecycleRoute } from './lifecycle-route';

function refused(status: 400 | 413 | 503, message: string): LifecycleResult {
  return { status, body: { error: { code: status === 503 ? ErrorCodes.STORE : ErrorCodes.LIFECYCLE_MALFORMED, message } } };
}

/** Answers what failed before or around the handler (a platform's body parser, a bug) as a 4xx, or 503 to be redelivered. */
@Catch()
export class LifecycleExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('MeteringLifecycle');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const status = exception instanceof HttpException ? exception.getStatus() : 503;
    const result =
      status === 413 ? refused(413, 'The delivery is too large.') : status < 500 ? refused(400, 'The delivery could not be read.') : refused(503, 'The event could not be applied; deliver it again later.');
    if (result.status === 503) this.logger.error(`lifecycle delivery failed: ${exception instanceof Error ? exception.message : String(exception)}`);
    this.adapterHost.httpAdapter.reply(host.switchToHttp().getResponse(), result.body, result.status);
  }
}

/**
 * A controller class of its own for each MeteringModule, mapped to POST `lifecycle.path` when the module's options
 * are resolved (see lifecycleRouteFactory); no route at all when the app configures none. Never metered.
 */
export function createLifecycleController(): Type<unknown> {
  @Controller({ version: VERSION_NEUTRAL })
  @SetMetadata(UNMETERED_METADATA, true)
  @SetMetadata(OWN_ROUTE_METADATA, true)
  @UseFilters(LifecycleExceptionFilter)
  class MarketplaceLifecycleController {
    constructor(
      @Inject(LIFECYCLE_ROUTE) private readonly route: LifecycleRoute,
      private readonly adapterHost: HttpAdapterHost,
    ) {}

    async receive(@Req() request: PlatformRequest, @Res() response: unknown): Promise<void> {
      const receiver = this.route.receiver!;
      // Compressed deliveries are refused as in every adapter (Fastify's parsers would hand over the compressed bytes).
      const encoding = String(request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
      if (encoding !== 'identity' && encoding !== '') {
        const http = this.adapterHost.httpAdapter;
        http.setHeader(response, 'cache-control', 'no-store');
        http.reply(response, refused(400, `Content encoding ${encoding} is not accepted.`).body, 400);
        return;
      }
      const read = await readDeliveryBody(request, receiver.bodyLimit);
      const result = 'tooLarge' in read ? refused(413, `Deliveries are limited to ${receiver.bodyLimit} bytes.`) : await receiver.handle({ headers: request.headers, body: read.body });
      const http = this.adapterHost.httpAdapter;
      http.setHeader(response, 'cache-control', 'no-store');
      http.reply(response, result.body, result.status);
    }
  }
  return MarketplaceLifecycleController;
}
