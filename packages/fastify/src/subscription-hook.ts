import type { Metering, SubscriptionEvent } from '@meterkit/core';
import type { FastifyBaseLogger } from 'fastify';

/**
 * Calls the app's hook on every `subscription` event. The hook runs beside the delivery, never inside it: what it
 * throws or rejects with is logged, and the event stays applied. Returns the unsubscriber.
 */
export function subscribeHook(metering: Metering, hook: (event: SubscriptionEvent) => void | Promise<void>, log: FastifyBaseLogger): () => void {
  const report = (event: SubscriptionEvent, error: unknown): void => {
    log.error({ change: event.change, eventId: event.eventId, err: error instanceof Error ? error.message : String(error) }, '@meterkit/fastify: onSubscriptionChange failed');
  };
  const listener = (event: SubscriptionEvent): void => {
    try {
      Promise.resolve(hook(event)).catch((error: unknown) => report(event, error));
    } catch (error) {
      report(event, error);
    }
  };
  metering.on('subscription', listener);
  return () => metering.off('subscription', listener);
}
