import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { CustomerIdentity, CustomerRecord, FlushReport, FlushRequest, Metering, MeteringStatus, RequestMeter } from '@meterkit/core';
import { METERING, METERING_MODULE_OPTIONS } from './metering.constants';
import type { MeteringModuleOptions } from './metering-options';

/**
 * The metering engine of the app, for services and scheduled jobs. Starts the scheduler with the app and
 * persists everything on shutdown (call `app.enableShutdownHooks()` so SIGTERM runs the hooks).
 */
@Injectable()
export class MeteringService implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(METERING) readonly metering: Metering,
    @Inject(METERING_MODULE_OPTIONS) private readonly options: MeteringModuleOptions,
  ) {}

  /** A meter for a tenant id, identity or registry record, outside a request. Commit it yourself. */
  meterFor(who: string | CustomerIdentity | CustomerRecord): Promise<RequestMeter> {
    return this.metering.meterFor(who);
  }

  /** Links a registered customer to your tenant id. */
  linkTenant(customerKey: string, tenantId: string): Promise<CustomerRecord> {
    return this.metering.linkTenant(customerKey, tenantId);
  }

  /** Sends every due hour now; the scheduler also does this every `flushIntervalMs`. */
  flush(request?: FlushRequest): Promise<FlushReport> {
    return this.metering.flush(request);
  }

  status(): Promise<MeteringStatus> {
    return this.metering.status();
  }

  onApplicationBootstrap(): void {
    if (this.options.autoStart !== false) this.metering.start();
  }

  /** Runs after the HTTP server stopped taking requests; rejects with ERR_METERKIT_NOT_PERSISTED if usage could not be saved. */
  onApplicationShutdown(): Promise<void> {
    return this.metering.close();
  }
}
