import { MarketplaceMeteringClient } from '@aws-sdk/client-marketplace-metering';
import { lazyTask, type Interleaver } from './interleaver';

/**
 * The real AWS SDK client, pointed at the emulator, whose calls run when the scheduler picks them: the HTTP round
 * trip happens inside a scheduled task, so runs do not depend on how fast the emulator answers.
 */
export function scheduledClient(endpoint: string, scheduler: Interleaver, name: string): MarketplaceMeteringClient {
  const client = new MarketplaceMeteringClient({
    maxAttempts: 1,
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const send = client.send.bind(client) as (command: unknown) => Promise<unknown>;
  const scheduled = (command: { constructor: { name: string } }): Promise<unknown> => {
    const label = `${name}.aws.${command.constructor.name.replace(/Command$/, '')}`;
    let outcome: { ok: true; value: unknown } | { ok: false; error: unknown } | undefined;
    const run = lazyTask(() =>
      send(command).then(
        (value) => {
          outcome = { ok: true, value };
        },
        (error: unknown) => {
          outcome = { ok: false, error };
        },
      ),
    );
    return scheduler.schedule(run, label).then(() => {
      if (outcome === undefined) throw new Error(`${label}: no outcome`);
      if (!outcome.ok) throw outcome.error;
      return outcome.value;
    });
  };
  (client as unknown as { send: typeof scheduled }).send = scheduled;
  return client;
}
