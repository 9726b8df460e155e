import type fc from 'fast-check';
import type { DynamoDbStore } from '../../src';

/** Every UpdateItem of `store` waits for the scheduler before it is sent: a property picks the order they reach DynamoDB in. */
export function scheduleUpdates(store: DynamoDbStore, s: fc.Scheduler): void {
  store.client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'UpdateItemCommand') await s.schedule(Promise.resolve(), 'UpdateItem');
      return next(args);
    },
    { step: 'initialize', name: 'scheduled-updates' },
  );
}
