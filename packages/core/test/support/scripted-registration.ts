import type { MarketplaceMeteringClient, ResolveCustomerCommandOutput } from '@aws-sdk/client-marketplace-metering';
import { silentLogger, type MemoryStore, type MeteringEvents } from '../../src';
import { MeteringEmitter } from '../../src/events';
import { Registration } from '../../src/registration/resolve-registration';

/** What ResolveCustomer answers for `productCode`: one license of one buyer account. */
export function resolveCustomerAnswer(productCode: string, account = '123456789012'): ResolveCustomerCommandOutput {
  return { ProductCode: productCode, CustomerAWSAccountId: account, LicenseArn: `arn:aws:license-manager::${account}:license:l-${productCode}`, $metadata: {} };
}

export interface ScriptedRegistration {
  readonly registration: Registration;
  /** Every `registered` event, in order. */
  readonly registered: MeteringEvents['registered'][];
}

/**
 * A Registration of one license-mode product whose ResolveCustomer calls go to `send` (a scripted client: what a
 * real endpoint cannot be made to do on cue), on a fixed clock, retrying without sleeping.
 */
export function scriptedRegistration(
  productCode: string,
  store: MemoryStore,
  send: () => Promise<ResolveCustomerCommandOutput>,
  bounds: { readonly timeoutMs: number; readonly callTimeoutMs: number },
): ScriptedRegistration {
  const events = new MeteringEmitter();
  const registered: MeteringEvents['registered'][] = [];
  events.on('registered', (e) => registered.push(e));
  const client = { send, config: {} } as unknown as MarketplaceMeteringClient;
  const registration = new Registration({
    client,
    store,
    products: new Map([[productCode, { productCode, identity: 'license', dimensions: new Set(['api_calls']) }]]),
    events,
    logger: silentLogger,
    clock: () => Date.parse('2026-07-15T10:20:00Z'),
    sleep: async () => undefined,
    retry: { attempts: 4, baseDelayMs: 1, maxDelayMs: 5 },
    region: async () => 'us-east-1',
    ...bounds,
  });
  return { registration, registered };
}
