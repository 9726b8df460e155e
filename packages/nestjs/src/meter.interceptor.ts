import { Inject, Injectable, Logger, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ErrorCodes, finishMeter, meterForRequest, MeterkitError, type Identified, type Metering, type RequestMeter } from '@meterkit/core';
import { tap, type Observable } from 'rxjs';
import { METERED_METADATA, METERING, METERING_MODULE_OPTIONS, UNMETERED_METADATA } from './metering.constants';
import type { MeteringModuleOptions } from './metering-options';
import type { MeteredUsage } from './decorators/metered.decorator';
import { onResponseDone, rawResponse } from './raw-response';
import { attachMeter } from './request-meter';

/**
 * Global interceptor: runs `identify`, attaches the request's meter, records `@Metered()` usage once the handler
 * has answered, and commits or discards the meter when the response is done. Metering trouble never fails the request.
 */
@Injectable()
export class MeterInterceptor implements NestInterceptor {
  private readonly logger = new Logger('Metering');

  constructor(
    @Inject(METERING) private readonly metering: Metering,
    @Inject(METERING_MODULE_OPTIONS) private readonly options: MeteringModuleOptions,
    private readonly reflector: Reflector,
  ) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    if (context.getType() !== 'http' || this.options.identify === undefined) return next.handle();
    if (this.reflector.get<boolean | undefined>(UNMETERED_METADATA, context.getClass()) === true) return next.handle();
    const http = context.switchToHttp();
    const request = http.getRequest<object>();
    const response = rawResponse(http.getResponse());
    if (response === undefined) return next.handle();
    const meter = await this.meterFor(request);
    if (meter === undefined) return next.handle();
    attachMeter(request, meter);
    onResponseDone(response, (statusCode, aborted) => finishMeter(meter, statusCode, aborted, this.options.commitPolicy));
    // Pipes run inside next.handle(), after this interceptor: a request they refuse never reaches the handler, and
    // its declared usage must not be recorded, whatever the commit policy bills.
    let recorded = false;
    const record = () => {
      if (recorded) return;
      recorded = true;
      this.recordDeclared(context, meter, request);
    };
    return next.handle().pipe(tap({ next: record, complete: record }));
  }

  private async meterFor(request: object): Promise<RequestMeter | undefined> {
    let identified: Identified;
    try {
      identified = await this.options.identify!(request);
    } catch (cause) {
      this.report(new MeterkitError(ErrorCodes.STORE, 'identify() threw: the customer of this request is unknown; it is served unmetered.', { cause }), request);
      return undefined;
    }
    const { meter, error } = await meterForRequest(this.metering, identified);
    if (error !== undefined) this.report(error, request);
    return meter;
  }

  private recordDeclared(context: ExecutionContext, meter: RequestMeter, request: object): void {
    const usages = [
      ...(this.reflector.get<MeteredUsage[] | undefined>(METERED_METADATA, context.getClass()) ?? []),
      ...(this.reflector.get<MeteredUsage[] | undefined>(METERED_METADATA, context.getHandler()) ?? []),
    ];
    for (const usage of usages) {
      try {
        meter.record(usage.dimension, usage.quantity);
      } catch (error) {
        this.report(error instanceof MeterkitError ? error : new MeterkitError(ErrorCodes.UNKNOWN_DIMENSION, String(error)), request);
      }
    }
  }

  private report(error: MeterkitError, request: object): void {
    if (this.options.onMeteringError !== undefined) {
      try {
        this.options.onMeteringError(error, request);
      } catch {
        // The hook is the app's; a throwing hook must not fail the request either.
      }
      return;
    }
    // Requests of tenants that are not AWS Marketplace customers are common and expected.
    if (error.code === ErrorCodes.UNKNOWN_CUSTOMER) this.logger.debug(`${error.code}: ${error.message}`);
    else this.logger.warn(`${error.code}: ${error.message}`);
  }
}
