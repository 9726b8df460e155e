import type { Metering, SubscriptionEvent } from '@meterkit/core';

/**
 * Calls the app's hook on every `subscription` event. The hook runs beside the delivery, never inside it: what it
 * throws or rejects with is logged, and the event stays applied. Returns the unsubscriber.
 */
export function subscribeHook(metering: Metering, hook: (event: SubscriptionEvent) => void | Promise<void>): () => void {
  const report = (event: SubscriptionEvent, error: unknown): void => {
    console.error(`meterkit(express): onSubscriptionChange failed for ${event.change} (event ${event.eventId}):`, error instanceof Error ? error.message : error);
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
