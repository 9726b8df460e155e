import type { Logger } from '../logger';
import { hourOf, submissionDeadline } from '../model/hours';
import { HOUR_MS } from '../model/limits';
import type { Product } from '../model/product';
import { customerPages } from '../store/customer-pages';
import type { UsageStore } from '../store/usage-store';
import { yieldToEventLoop } from '../store/yield-to-event-loop';

/** Zero totals written between two yields to the event loop (a store may write each synchronously). */
const WRITES_PER_SLICE = 100;

export interface ZeroHoursDeps {
  readonly store: UsageStore;
  readonly products: ReadonlyMap<string, Product>;
  readonly logger: Logger;
  /** The dimension zero records are sent for, per product. Default: the product's first dimension. */
  readonly dimensionOf: (product: Product) => string;
}

/**
 * AWS recommends a record for every hour of an active subscription, 0 when there was no usage. For each active
 * customer, hands in a 0 total for every closed, locked hour that has no record of that dimension yet: never an
 * hour that may still receive usage, since a record freezes its hour. Reads the active customers a page at a time.
 */
export class ZeroHours {
  /** The first hour not yet checked, per customer: each hour is filled once per process. */
  private readonly nextHour = new Map<string, number>();

  constructor(private readonly d: ZeroHoursDeps) {}

  async fill(dueBefore: number, now: number): Promise<number> {
    let created = 0;
    let writes = 0;
    for await (const page of customerPages(this.d.store, { status: 'active' })) {
      for (const customer of page) {
        const product = this.d.products.get(customer.identity.productCode);
        if (product === undefined) continue;
        const dimension = this.d.dimensionOf(product);
        let hour = Math.max(this.nextHour.get(customer.key) ?? hourOf(customer.registeredAt), hourOf(now) - 23 * HOUR_MS);
        for (; hour < dueBefore; hour += HOUR_MS) {
          if (submissionDeadline(hour) <= now) continue;
          const result = await this.d.store.setTotal(
            { customer: customer.identity, customerKey: customer.key, productCode: product.productCode, dimension, hour, usage: { quantity: 0, allocations: [] } },
            now,
          );
          if (result.outcome === 'created') created++;
          if (++writes % WRITES_PER_SLICE === 0) await yieldToEventLoop();
        }
        this.nextHour.set(customer.key, hour);
      }
    }
    if (created > 0) this.d.logger.debug({ records: created }, 'zero-quantity records added for hours without usage');
    return created;
  }
}
