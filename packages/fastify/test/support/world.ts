import type { Emulator } from '@meterkit/emulator';
import { createMetering, type CustomerIdentity, type Metering, type MeteringOptions } from '@meterkit/core';
import Fastify, { type FastifyInstance } from 'fastify';
import { HOUR_CLOSED, meteringOptionsFor, START, startProductEmulator } from '../../../../tools/testing/emulator-world/emulator-world';
import { meterkit, type MeterkitPluginOptions } from '../../src';

export const PRODUCT = 'prod-fastify1';
export const DIMENSIONS = ['api_calls', 'gb_processed'];
export { START, HOUR_CLOSED };
const PRODUCTS = [{ productCode: PRODUCT, dimensions: DIMENSIONS }];

export async function emulator(): Promise<Emulator> {
  return startProductEmulator(PRODUCTS);
}

export function meteringFor(emu: Emulator, options: Partial<MeteringOptions> = {}): Metering {
  return createMetering(meteringOptionsFor(emu, PRODUCTS, options));
}

/** A subscribed buyer, registered with the engine and linked to `tenantId`. */
export async function tenant(emu: Emulator, metering: Metering, tenantId: string): Promise<CustomerIdentity> {
  const { token } = await emu.subscribe({ productCode: PRODUCT });
  const customer = await metering.resolveRegistration(token);
  await metering.linkTenant(customer.key, tenantId);
  return customer.identity;
}

/** Tenants authenticate with `x-tenant`; the plugin is registered with that as `identify`. */
export async function appWith(metering: Metering, options: Partial<MeterkitPluginOptions> = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  await app.register(meterkit, {
    metering,
    identify: (request) => (typeof request.headers['x-tenant'] === 'string' ? request.headers['x-tenant'] : undefined),
    ...options,
  });
  return app;
}

/** Closes the emulator's hour and sends everything due. */
export async function flushHour(emu: Emulator, metering: Metering): Promise<void> {
  emu.clock.set(HOUR_CLOSED);
  await metering.flush();
}
