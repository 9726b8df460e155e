import { startEmulator, type Emulator } from '@meterkit/emulator';
import { createMetering, silentLogger, type CustomerIdentity, type Metering, type MeteringOptions } from '@meterkit/core';
import Fastify, { type FastifyInstance } from 'fastify';
import { meterkit, type MeterkitPluginOptions } from '../../src';

export const PRODUCT = 'prod-fastify1';
export const DIMENSIONS = ['api_calls', 'gb_processed'];
export const START = Date.parse('2026-07-15T10:20:00Z');
/** After the 10:00 hour and its 10-minute lock: that hour is due. */
export const HOUR_CLOSED = Date.parse('2026-07-15T11:11:00Z');

export async function emulator(): Promise<Emulator> {
  return startEmulator({ now: START, products: [{ productCode: PRODUCT, dimensions: DIMENSIONS }] });
}

export function meteringFor(emu: Emulator, options: Partial<MeteringOptions> = {}): Metering {
  return createMetering({
    products: [{ productCode: PRODUCT, dimensions: DIMENSIONS }],
    store: 'memory',
    aws: { region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
    clock: () => emu.clock.now(),
    logger: silentLogger,
    autoStart: false,
    retry: { baseDelayMs: 1, maxDelayMs: 5 },
    ...options,
  });
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
