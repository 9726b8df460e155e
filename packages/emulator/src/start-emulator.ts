/** startEmulator(): wires state, HTTP server, lifecycle and the programmatic API. */
import type { AddressInfo } from 'node:net';
import { createAdminHandler } from './admin/routes';
import { Clock } from './clock';
import { Agreements } from './contracts/agreements';
import { Contracts } from './contracts/contracts';
import { PageTokens } from './contracts/entitlement-pages';
import { DEFAULT_ENTITLEMENT_SETTINGS, entitlementSettings } from './contracts/entitlement-settings';
import { RateLimiter } from './contracts/rate-limiter';
import { Faults } from './faults/faults';
import { createEmulatorServer } from './http/server';
import { Lifecycle } from './lifecycle/lifecycle';
import { RegisterUsageKeys } from './register-usage-jwt';
import { PRODUCT_CODE_RE } from './rules/model-constraints';
import { DEFAULT_WINDOWS, HOUR_MS } from './rules/windows';
import { Buyers } from './state/buyers';
import type { EmulatorState } from './state/emulator-state';
import { Ledger } from './state/ledger';
import { Tokens } from './state/tokens';
import type { Emulator, EmulatorProduct, StartEmulatorOptions } from './types';

function normalizeProduct(p: EmulatorProduct): Required<EmulatorProduct> {
  if (!p || typeof p.productCode !== 'string' || !p.productCode || p.productCode.length > 255 || !PRODUCT_CODE_RE.test(p.productCode))
    throw new TypeError(`Invalid productCode ${JSON.stringify(p?.productCode)}`);
  if (!Array.isArray(p.dimensions) || p.dimensions.some((d) => typeof d !== 'string' || d.length < 1 || d.length > 255))
    throw new TypeError(`Product ${p.productCode}: dimensions must be a list of 1..255 character names`);
  const identity = p.identity ?? 'license';
  if (identity !== 'license' && identity !== 'legacy') throw new TypeError(`Product ${p.productCode}: identity must be 'license' or 'legacy'`);
  const pricing = p.pricing ?? 'subscription';
  if (!PRICING.includes(pricing)) throw new TypeError(`Product ${p.productCode}: pricing must be one of ${PRICING.join(', ')}`);
  const contractDimensions = p.contractDimensions ?? [];
  if (!Array.isArray(contractDimensions) || contractDimensions.some((d) => typeof d !== 'string' || !/^\S{1,255}$/.test(d)))
    throw new TypeError(`Product ${p.productCode}: contractDimensions must be a list of dimension API names (no spaces)`);
  if (pricing === 'subscription' && contractDimensions.length > 0)
    throw new TypeError(`Product ${p.productCode}: contractDimensions need pricing 'contract' or 'contract-with-consumption'`);
  if (pricing !== 'subscription' && contractDimensions.length === 0) throw new TypeError(`Product ${p.productCode}: a ${pricing} product needs contractDimensions`);
  if (pricing === 'contract-with-consumption' && p.dimensions.length === 0)
    throw new TypeError(`Product ${p.productCode}: a contract-with-consumption product needs metered dimensions`);
  return { productCode: p.productCode, dimensions: [...p.dimensions], identity, pricing, contractDimensions: [...contractDimensions] };
}

const PRICING = ['subscription', 'contract', 'contract-with-consumption'] as const;

export async function startEmulator(options: StartEmulatorOptions = {}): Promise<Emulator> {
  const log = options.logger ?? (() => undefined);
  const clock = new Clock({
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.speed === undefined ? {} : { speed: options.speed }),
    ...(options.timeSource === undefined ? {} : { source: options.timeSource }),
  });
  const region = options.region ?? 'us-east-1';
  const windows = { ...DEFAULT_WINDOWS, ...Object.fromEntries(Object.entries(options.windows ?? {}).filter(([, v]) => v !== undefined)) };
  const initialEntitlementSettings = entitlementSettings(DEFAULT_ENTITLEMENT_SETTINGS, options.entitlements);
  const sellerAccountId = options.sellerAccountId ?? '111111111111';
  const state: EmulatorState = {
    region,
    clock,
    products: new Map(),
    buyers: new Buyers(),
    tokens: new Tokens(options.tokenTtlMs ?? 4 * HOUR_MS),
    ledger: new Ledger(),
    faults: new Faults(options.faults, options.seed ?? 1),
    keys: new RegisterUsageKeys(() => clock.now()),
    windows,
    finalUsageWindowMs: options.finalUsageWindowMs ?? HOUR_MS,
    enforceLicenseStart: options.enforceLicenseStart ?? false,
    disabledOperations: new Set(options.disabledOperations ?? []),
    contracts: new Contracts(),
    agreements: new Agreements(),
    entitlementSettings: initialEntitlementSettings,
    entitlementLimiter: new RateLimiter(),
    entitlementPages: new PageTokens(),
    sellerAccountId,
  };
  for (const p of options.products ?? []) state.products.set(p.productCode, normalizeProduct(p));

  let endpoint = '';
  const lifecycle = new Lifecycle(state, {
    sellerAccountId,
    events: options.events,
    sns: options.sns,
    endpoint: () => endpoint,
    log,
  });
  clock.onChange(() => lifecycle.sweep());
  const sweeper = setInterval(() => lifecycle.sweep(), 1000);
  sweeper.unref();

  let emulator: Emulator | undefined;
  const server = createEmulatorServer(state, createAdminHandler(() => emulator as Emulator), log);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closed: Promise<void> | undefined;
  emulator = {
    endpoint,
    port,
    region,
    clock,
    faults: state.faults,
    addProduct: (p) => {
      state.products.set(p.productCode, normalizeProduct(p));
    },
    products: () => [...state.products.values()].map((p) => ({ ...p, dimensions: [...p.dimensions], contractDimensions: [...p.contractDimensions] })),
    subscribe: (o) => lifecycle.subscribe(o),
    cancel: (id) => lifecycle.cancel(id),
    renew: (id, o) => lifecycle.renew(id, o),
    replace: (id) => lifecycle.replace(id),
    amend: (id, o) => lifecycle.amend(id, o),
    expire: (id) => lifecycle.expire(id),
    entitlements: {
      list: (productCode) => state.contracts.rows(productCode),
      settings: () => ({ ...state.entitlementSettings }),
      configure: (s) => {
        state.entitlementSettings = entitlementSettings(state.entitlementSettings, s);
        return { ...state.entitlementSettings };
      },
    },
    idle: () => lifecycle.idle(),
    buyers: () => state.buyers.list(),
    issueToken: (id) => lifecycle.issueToken(id),
    publicKeyPem: (version) => state.keys.publicKeyPem(version),
    rotatePublicKey: () => state.keys.rotate(),
    inspect: {
      records: () => state.ledger.records(),
      totals: () => state.ledger.totals(),
      totalFor: (q) => state.ledger.totalFor(q),
      calls: (op) => state.ledger.calls(op),
      rejected: () => state.ledger.rejected(),
      duplicates: () => state.ledger.duplicates(),
      events: () => state.ledger.events(),
    },
    reset: () => {
      state.ledger.reset();
      state.faults.reset();
      state.entitlementSettings = { ...initialEntitlementSettings };
      state.entitlementLimiter.reset();
    },
    close: () => {
      closed ??= (async () => {
        clearInterval(sweeper);
        await lifecycle.idle();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closed;
    },
  };
  return emulator;
}
