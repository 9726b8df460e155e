import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import {
  ErrorCodes,
  isMeterkitError,
  resolveEntitlementGate,
} from '@meterkit/core';
import type { CustomerIdentity, CustomerRecord, FlushReport, FlushRequest, Metering, MeteringStatus, RequestMeter, SubscriptionEvent } from '@meterkit/core';
import { METERING, METERING_MODULE_OPTIONS } from './metering.constants';
import { type MeteringModuleOptions } from './metering-options';

/**
 * The metering engine of the app, for services and scheduled jobs. Starts the scheduler with the app and
 * persists everything on shutdown (call `app.enableShutdownHooks()` so SIGTERM runs the hooks).
 */
@Injectable()
export class MeteringService implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Metering');

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

  /** Subscribes the app's `onSubscriptionChange` hook: it runs beside each delivery, its errors are logged. */
  onModuleInit(): void {
    if (this.options.onSubscriptionChange !== undefined) this.metering.on('subscription', this.onSubscription);
  }

  private readonly onSubscription = (event: SubscriptionEvent): void => {
    const report = (error: unknown): void =>
      this.logger.error(`onSubscriptionChange failed for ${event.change} (event ${event.eventId}): ${error instanceof Error ? error.message : String(error)}`);
    try {
      Promise.resolve(this.options.onSubscriptionChange!(event)).catch(report);
    } catch (error) {
      report(error);
    }
  };

  onApplicationBootstrap(): void {
    if ((this.options.manageLifecycle ?? this.options.autoStart) !== false) this.metering.start();
    if (resolveEntitlementGate(this.options.entitlementGate)?.register === true) this.registerUsage();
  }

  /** RegisterUsage without waiting; a refusal is kept in `entitlement()` and emitted by the core as an `error` event. */
  private registerUsage(): void {
    this.metering.registerUsage().catch((error: unknown) => {
      if (isMeterkitError(error, ErrorCodes.OPTIONS)) this.logger.error(`entitlementGate.register: ${error.message}`);
    });
  }

  /** Runs after the HTTP server stopped taking requests; rejects with ERR_METERKIT_NOT_PERSISTED if usage could not be saved. */
  onApplicationShutdown(): Promise<void> {
    this.metering.off('subscription', this.onSubscription);
    return this.options.manageLifecycle === false ? Promise.resolve() : this.metering.close();
  }
}
