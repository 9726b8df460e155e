import { startEmulator, type Emulator, type StartEmulatorOptions, type Subscription } from '@meterkit/emulator';
import { createMetering, silentLogger, type CustomerIdentity, type Metering, type MeteringOptions } from '../../src';

export const LICENSED = 'prod-licensed';
export const LEGACY = 'prod-legacy';
export const DIMENSIONS = ['api_calls', 'gb_processed', ...Array.from({ length: 10 }, (_, i) => `d${String(i).padStart(2, '0')}`)];

export const at = (iso: string): number => Date.parse(iso);

export interface World {
  emu: Emulator;
  metering: Metering;
  /** Moves both clocks: meterkit reads the emulator's. */
  setTime(iso: string): void;
  license(): Promise<CustomerIdentity>;
  legacyCustomer(): Promise<CustomerIdentity>;
  close(): Promise<void>;
}

export function identityOf(subscription: Subscription): CustomerIdentity {
  return subscription.licenseArn !== undefined
    ? { kind: 'license', licenseArn: subscription.licenseArn, customerAwsAccountId: subscription.accountId, productCode: subscription.productCode }
    : { kind: 'legacy', customerIdentifier: subscription.customerIdentifier!, productCode: subscription.productCode };
}

/** An emulator with a licensed and a legacy product, and a Metering instance pointed at it with the same clock. */
export async function startWorld(
  options: Partial<MeteringOptions> = {},
  emulator: StartEmulatorOptions = {},
): Promise<World> {
  const emu = await startEmulator({
    now: at('2026-07-15T10:20:00Z'),
    products: [
      { productCode: LICENSED, dimensions: DIMENSIONS, identity: 'license' },
      { productCode: LEGACY, dimensions: DIMENSIONS, identity: 'legacy' },
    ],
    ...emulator,
  });
  let metering: Metering;
  try {
    metering = createMetering({
    products: [
      { productCode: LICENSED, dimensions: DIMENSIONS },
      { productCode: LEGACY, dimensions: DIMENSIONS, identity: 'legacy' },
    ],
    store: 'memory',
    aws: { region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
    clock: () => emu.clock.now(),
    logger: silentLogger,
    autoStart: false,
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
    requestsPerSecond: 10,
    ...options,
    });
  } catch (error) {
    await emu.close();
    throw error;
  }
  return {
    emu,
    metering,
    setTime: (iso) => emu.clock.set(at(iso)),
    license: async () => identityOf(await emu.subscribe({ productCode: LICENSED })),
    legacyCustomer: async () => identityOf(await emu.subscribe({ productCode: LEGACY })),
    close: async () => {
      await metering.close().catch(() => undefined);
      await emu.close();
    },
  };
}

export function batchCalls(emu: Emulator): Array<{ records?: number; status: number; error?: string }> {
  return emu.inspect.calls('BatchMeterUsage');
}
