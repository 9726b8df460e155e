import { ErrorCodes, type SubscriptionEvent } from '@meterkit/core';
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { DIMENSION, NO_SUCH_DIMENSION, type AdapterDriver } from './driver';
import { as, at, EVENTS_PATH, LEGACY_PRODUCT, PRODUCT, REGISTER_PATH, registrationForm, SECRET, startWorld, STATUS_TOKEN, type World, type WorldOptions } from './world';

/** The entitlement routes of the contract app: `seats` held, `sso` not bought, `seats` of at least 50. */
const ENTITLED = [
  { path: '/entitled/seats', dimension: 'seats' },
  { path: '/entitled/sso', dimension: 'sso' },
  { path: '/entitled/many-seats', dimension: 'seats', atLeast: 50 },
];

export {
  describeMeter,
  DIMENSION,
  NO_SUCH_DIMENSION,
  TENANT_HEADER,
  type AdapterDriver,
  type ContractApp,
  type ContractAppOptions,
  type EntitledRoute,
} from './driver';

/**
 * The adapter contract (docs/decisions.md, "Adapter contract"): what every adapter answers the same way, run against
 * one adapter/platform pair through its driver.
 */
/** Fixed seed under `npm test`; METERKIT_FUZZ_RUNS / METERKIT_FUZZ_SEED as in the core's generative suites. */
function fuzzParameters(defaultRuns: number): fc.Parameters<unknown> {
  const env = process.env;
  const fuzzing = env.METERKIT_FUZZ_RUNS !== undefined;
  const numRuns = fuzzing ? Number(env.METERKIT_FUZZ_RUNS) : defaultRuns;
  const seed = env.METERKIT_FUZZ_SEED !== undefined ? Number(env.METERKIT_FUZZ_SEED) : fuzzing ? Math.floor(Math.random() * 0x7fffffff) : 20261207;
  return { numRuns, seed };
}

interface Call {
  readonly tenant: 'acme' | 'nobody' | null;
  readonly route: '/work' | '/counted' | '/free' | '/answer';
  readonly status: number;
}

const CALL: fc.Arbitrary<Call> = fc.record({
  tenant: fc.constantFrom('acme' as const, 'nobody' as const, null),
  route: fc.constantFrom('/work' as const, '/counted' as const, '/free' as const, '/answer' as const),
  status: fc.constantFrom(200, 201, 302, 400, 403, 404, 409, 429, 500, 502, 503),
});

/** What a call bills under the default commit policy: 1 when a known customer's request records and is answered below 400. */
function expectedUnits(call: Call): number {
  if (call.tenant !== 'acme' || call.route === '/free') return 0;
  return call.route === '/answer' && call.status >= 400 ? 0 : 1;
}

export function describeAdapterContract(driver: AdapterDriver): void {
  describe(`adapter contract: ${driver.name}`, () => {
    let world: World | undefined;
    afterEach(async () => {
      await world?.close();
      world = undefined;
    });

    async function start(options: WorldOptions = {}): Promise<World> {
      world = await startWorld(driver, options);
      return world;
    }

    describe('metering', () => {
      it('bills a 2xx exactly once per request, the handler\'s record() and the route-level count alike', async () => {
        const w = await start();
        const { licenseArn } = await w.buyer('acme');
        for (let i = 0; i < 3; i++) expect((await w.send('/work', { headers: as('acme') })).json()).toEqual({ meter: 'bound' });
        for (let i = 0; i < 2; i++) expect((await w.send('/counted', { headers: as('acme') })).status).toBe(200);
        expect((await w.send('/answer/201', { headers: as('acme') })).status).toBe(201);
        expect(await w.billed(licenseArn)).toBe(6);
        expect(w.emu.inspect.duplicates()).toEqual([]);
      });

      it('bills exactly one unit per metered request answered below 400, whatever the sequence of tenants, routes and statuses (property)', async () => {
        await fc.assert(
          fc.asyncProperty(fc.array(CALL, { minLength: 1, maxLength: 12 }), async (calls) => {
            const w = await startWorld(driver);
            try {
              const { licenseArn } = await w.buyer('acme');
              for (const call of calls) {
                const path = call.route === '/answer' ? `/answer/${call.status}` : call.route;
                const answer = await w.send(path, call.tenant === null ? {} : { headers: as(call.tenant) });
                expect(answer.status).toBe(call.route === '/answer' ? call.status : 200);
              }
              expect(await w.billed(licenseArn)).toBe(calls.reduce((sum, call) => sum + expectedUnits(call), 0));
              expect(w.emu.inspect.duplicates()).toEqual([]);
            } finally {
              await w.close();
            }
          }),
          fuzzParameters(5),
        );
      });

      it('bills nothing for 4xx and 5xx answers', async () => {
        const w = await start();
        const { licenseArn } = await w.buyer('acme');
        for (const status of [400, 401, 404, 429, 500, 503]) {
          expect((await w.send(`/answer/${status}`, { headers: as('acme') })).status).toBe(status);
        }
        await w.send('/work', { headers: as('acme') });
        expect(await w.billed(licenseArn)).toBe(1);
      });

      it('bills nothing on a route that records nothing, even for a metered customer', async () => {
        const w = await start();
        const { licenseArn } = await w.buyer('acme');
        expect((await w.send('/free', { headers: as('acme') })).json()).toEqual({ meter: 'bound' });
        expect(await w.billed(licenseArn)).toBe(0);
        expect(w.emu.inspect.records()).toEqual([]);
      });

      it('gives handlers null as the meter of an unmetered request: no tenant, or a tenant with no customer', async () => {
        const w = await start();
        const { licenseArn } = await w.buyer('acme');
        expect((await w.send('/work')).json()).toEqual({ meter: 'null' });
        expect((await w.send('/free')).json()).toEqual({ meter: 'null' });
        expect((await w.send('/work', { headers: as('nobody') })).json()).toEqual({ meter: 'null' });
        expect((await w.send('/counted', { headers: as('nobody') })).status).toBe(200);
        expect(await w.billed(licenseArn)).toBe(0);
      });

      it('throws ERR_METERKIT_UNKNOWN_DIMENSION from record() into the framework\'s error handling: a 500, nothing billed', async () => {
        const w = await start();
        const { licenseArn } = await w.buyer('acme');
        expect((await w.send('/typo', { headers: as('acme') })).status).toBe(500);
        expect(w.app.errors).toEqual([expect.objectContaining({ code: ErrorCodes.UNKNOWN_DIMENSION, message: expect.stringContaining(NO_SUCH_DIMENSION) })]);
        await w.send('/work', { headers: as('acme') });
        expect(await w.billed(licenseArn)).toBe(1);
      });

      it('refuses to start an app whose route-level usage names a dimension no product has: ERR_METERKIT_UNKNOWN_DIMENSION', async () => {
        const failed = await startWorld(driver, { app: { countedDimension: NO_SUCH_DIMENSION } }).then(
          (started) => {
            world = started;
            return undefined;
          },
          (error: unknown) => error,
        );
        expect(failed).toMatchObject({ code: ErrorCodes.UNKNOWN_DIMENSION, message: expect.stringContaining(NO_SUCH_DIMENSION) });
      });

      it('persists usage held in memory when the app shuts down the framework\'s way', async () => {
        const w = await start();
        const { licenseArn } = await w.buyer('acme');
        await w.send('/work', { headers: as('acme') });
        await w.send('/counted', { headers: as('acme') });
        await w.settled();
        await w.app.close();
        const stored = (w.store.recordsAtClose ?? []).filter((r) => r.dimension === DIMENSION);
        expect(stored.reduce((sum, r) => sum + r.quantity, 0)).toBe(2);
        expect(w.emu.inspect.totalFor({ licenseArn })).toBe(0);
      });
    });

    describe('registration route', () => {
      const registration = (extra: Record<string, unknown> = {}) => ({ app: { registration: { path: REGISTER_PATH, rateLimitPerMinute: 0, ...extra } } });

      it('resolves the token, stores the customer, links the tenant the hook names and answers 200 JSON (303 with a redirect)', async () => {
        let hooked = 0;
        const w = await start(registration({ onRegistered: () => ({ tenantId: `tenant-${++hooked}` }) }));
        const first = await w.emu.subscribe({ productCode: PRODUCT });
        const answer = await w.send(REGISTER_PATH, registrationForm(first.token));
        expect([answer.status, answer.json()]).toEqual([200, { registered: true, productCode: PRODUCT }]);
        expect(answer.headers.get('cache-control')).toBe('no-store');
        expect(await w.metering.listCustomers()).toEqual([expect.objectContaining({ tenantId: 'tenant-1', identity: expect.objectContaining({ licenseArn: first.licenseArn }) })]);
        await w.send('/work', { headers: as('tenant-1') });
        expect(await w.billed(first.licenseArn!)).toBe(1);
      });

      it('redirects with 303 to the page the hook names', async () => {
        const w = await start(registration({ onRegistered: () => ({ redirect: '/welcome' }) }));
        const { token } = await w.emu.subscribe({ productCode: PRODUCT });
        const answer = await w.send(REGISTER_PATH, registrationForm(token));
        expect([answer.status, answer.headers.get('location'), answer.headers.get('cache-control')]).toEqual([303, '/welcome', 'no-store']);
      });

      it('answers 400 ERR_METERKIT_TOKEN_INVALID to a forged token and 400 ERR_METERKIT_TOKEN_MALFORMED to none', async () => {
        const w = await start(registration());
        const forged = await w.send(REGISTER_PATH, registrationForm('forged-token-123'));
        expect([forged.status, forged.json().error.code]).toEqual([400, ErrorCodes.TOKEN_INVALID]);
        const none = await w.send(REGISTER_PATH, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'other=1' });
        expect([none.status, none.json().error.code]).toEqual([400, ErrorCodes.TOKEN_MALFORMED]);
        expect(await w.metering.listCustomers()).toEqual([]);
      });

      it('answers 400 ERR_METERKIT_TOKEN_EXPIRED to a token past its lifetime', async () => {
        const w = await start(registration());
        const { token } = await w.emu.subscribe({ productCode: PRODUCT });
        w.emu.clock.advance(5 * 3_600_000);
        const expired = await w.send(REGISTER_PATH, registrationForm(token));
        expect([expired.status, expired.json().error.code]).toEqual([400, ErrorCodes.TOKEN_EXPIRED]);
      });

      it('answers 502 ERR_METERKIT_REGISTRATION_FAILED when ResolveCustomer keeps failing', async () => {
        const w = await start(registration());
        const { token } = await w.emu.subscribe({ productCode: PRODUCT });
        w.emu.faults.failNext('ResolveCustomer', 'InternalServiceErrorException', 10);
        const failed = await w.send(REGISTER_PATH, registrationForm(token));
        expect([failed.status, failed.json().error.code]).toEqual([502, ErrorCodes.REGISTRATION_FAILED]);
      });

      it('answers 502 ERR_METERKIT_REGISTRATION_FAILED within registrationTimeoutMs when AWS does not answer in time, and the same link works once it does', async () => {
        const w = await start({ ...registration(), bounds: { registrationTimeoutMs: 300, callTimeoutMs: 100 } });
        const { token } = await w.emu.subscribe({ productCode: PRODUCT });
        // Far past every call's bound: no ResolveCustomer call is answered in time.
        w.emu.faults.set({ latencyMs: 3000 });
        const failed = await w.send(REGISTER_PATH, registrationForm(token));
        expect([failed.status, failed.json().error.code]).toEqual([502, ErrorCodes.REGISTRATION_FAILED]);
        expect(failed.json().error.message).toMatch(/same link/);
        expect(await w.metering.listCustomers()).toEqual([]);
        w.emu.faults.set({ latencyMs: 0 });
        expect((await w.send(REGISTER_PATH, registrationForm(token))).status).toBe(200);
        expect(await w.metering.listCustomers()).toHaveLength(1);
      });

      it('answers 503 ERR_METERKIT_STORE when the store is down, and the same link works once it is back', async () => {
        const w = await start(registration({ onRegistered: () => ({ tenantId: 'acme' }) }));
        const { token } = await w.emu.subscribe({ productCode: PRODUCT });
        w.store.customersDown = true;
        const down = await w.send(REGISTER_PATH, registrationForm(token));
        expect([down.status, down.json().error.code]).toEqual([503, ErrorCodes.STORE]);
        w.store.customersDown = false;
        expect((await w.send(REGISTER_PATH, registrationForm(token))).status).toBe(200);
        expect((await w.metering.listCustomers()).map((c) => c.tenantId)).toEqual(['acme']);
      });

      it('answers 500 ERR_METERKIT_REGISTRATION_HOOK when onRegistered throws; the customer stays stored and the same link works again', async () => {
        let fail = true;
        const w = await start(
          registration({
            onRegistered: async () => {
              if (fail) throw new Error('tenant service down');
              return { tenantId: 'acme' };
            },
          }),
        );
        const { token } = await w.emu.subscribe({ productCode: PRODUCT });
        const failed = await w.send(REGISTER_PATH, registrationForm(token));
        expect([failed.status, failed.json()]).toEqual([500, { error: { code: ErrorCodes.REGISTRATION_HOOK, message: expect.any(String) } }]);
        expect(failed.text).not.toContain('tenant service down');
        expect(await w.metering.listCustomers()).toHaveLength(1);
        fail = false;
        expect((await w.send(REGISTER_PATH, registrationForm(token))).status).toBe(200);
        expect((await w.metering.listCustomers()).map((c) => c.tenantId)).toEqual(['acme']);
      });

      it('answers 413 for a body over the cap, 415 for another content type, charset or encoding, 400 for a malformed body: never 500', async () => {
        const w = await start(registration({ maxBodyBytes: 1024 }));
        const send = (contentType: string, body: string | Uint8Array, headers: Record<string, string> = {}) =>
          w.send(REGISTER_PATH, { method: 'POST', headers: { 'content-type': contentType, ...headers }, body });
        const post = async (contentType: string, body: string | Uint8Array, headers: Record<string, string> = {}) => {
          const answer = await send(contentType, body, headers);
          return [answer.status, answer.json().error?.code];
        };
        const FORM = 'application/x-www-form-urlencoded';
        expect(await post(FORM, `x-amzn-marketplace-token=${'a'.repeat(2000)}`)).toEqual([413, ErrorCodes.TOKEN_MALFORMED]);
        expect(await post('application/json', '{"x-amzn-marketplace-token":"abc"}')).toEqual([415, ErrorCodes.TOKEN_MALFORMED]);
        expect(await post('text/plain', 'x-amzn-marketplace-token=abc')).toEqual([415, ErrorCodes.TOKEN_MALFORMED]);
        // The status only for a charset or an encoding no parser reads: on Nest on Express the app's own form parser
        // refuses them before meterkit's route, answered by the app's exception handling (meterkit leaves the app's
        // body parsing alone).
        expect((await send(`${FORM}; charset=utf-16`, 'x-amzn-marketplace-token=abc')).status).toBe(415);
        expect((await send(FORM, 'x', { 'content-encoding': 'br-nope' })).status).toBe(415);
        expect(await post(FORM, gzipSync('x-amzn-marketplace-token=abc'), { 'content-encoding': 'gzip' })).toEqual([415, ErrorCodes.TOKEN_MALFORMED]);
        expect(await post(FORM, '%%%=%E0%A4%A&&=&x-amzn-marketplace-token')).toEqual([400, ErrorCodes.TOKEN_MALFORMED]);
        // ISO-8859-1 is read (the token is ASCII): this forged token reaches AWS.
        expect(await post(`${FORM}; charset=ISO-8859-1`, 'x-amzn-marketplace-token=forged-token-123')).toEqual([400, ErrorCodes.TOKEN_INVALID]);
        // A form is bounded by its size alone: many fields within the cap, none the token, is a form without a token.
        expect(await post(FORM, Array.from({ length: 50 }, (_, i) => `f${i}=1`).join('&'))).toEqual([400, ErrorCodes.TOKEN_MALFORMED]);
        expect(w.emu.inspect.calls('ResolveCustomer')).toHaveLength(1);
        // Not the registration route's method: the app's own routing answers.
        expect((await w.send(REGISTER_PATH)).status).toBe(404);
      });

      it('answers 429 ERR_METERKIT_RATE_LIMITED with retry-after 60 past rateLimitPerMinute, without asking AWS', async () => {
        const w = await start({ app: { registration: { path: REGISTER_PATH, rateLimitPerMinute: 1 } } });
        const { token } = await w.emu.subscribe({ productCode: PRODUCT });
        expect((await w.send(REGISTER_PATH, registrationForm(token))).status).toBe(200);
        const limited = await w.send(REGISTER_PATH, registrationForm(token));
        expect([limited.status, limited.json().error.code, limited.headers.get('retry-after')]).toEqual([429, ErrorCodes.RATE_LIMITED, '60']);
        expect(w.emu.inspect.calls('ResolveCustomer')).toHaveLength(1);
      });
    });

    describe('lifecycle route', () => {
      let tenants = 0;
      const lifecycleApp = (sns = false, onSubscriptionChange?: (event: SubscriptionEvent) => void | Promise<void>) => ({
        registration: { path: REGISTER_PATH, rateLimitPerMinute: 0, onRegistered: () => ({ tenantId: `tenant-${++tenants}` }) },
        lifecycle: { path: EVENTS_PATH, secret: SECRET, maxBodyBytes: 8192, ...(sns ? { sns: { trustCertificateUrl: (url: URL) => url.hostname === '127.0.0.1' } } : {}) },
        ...(onSubscriptionChange === undefined ? {} : { onSubscriptionChange }),
      });

      it('accepts EventBridge deliveries with the connection\'s secret: a cancelled buyer\'s partial hour is sent at once, then its requests are unmetered', async () => {
        const w = await start({ app: lifecycleApp(), events: true });
        const subscription = await w.emu.subscribe({ productCode: PRODUCT, registrationUrl: `${w.url}${REGISTER_PATH}` });
        expect(subscription.registration?.status).toBe(200);
        expect(w.emu.inspect.events().map((e) => e.status)).toEqual([200, 200, 200]);
        const [customer] = await w.metering.listCustomers();
        expect(customer).toMatchObject({ status: 'active' });
        const tenant = customer!.tenantId!;
        for (let i = 0; i < 2; i++) expect((await w.send('/work', { headers: as(tenant) })).json()).toEqual({ meter: 'bound' });
        await w.settled();

        const sent = new Promise<void>((resolve) => w.metering.once('sent', () => resolve()));
        await w.emu.cancel(subscription.licenseArn!);
        expect(w.emu.inspect.events().map((e) => e.status)).toEqual([200, 200, 200, 200, 200, 200]);
        await sent;
        // Still 10:20: the partial hour went out without waiting for the hour to close; the deliveries were not metered.
        expect(w.emu.inspect.records().map((r) => [r.licenseArn, r.dimension, r.quantity])).toEqual([[subscription.licenseArn, DIMENSION, 2]]);
        expect((await w.send('/work', { headers: as(tenant) })).json()).toEqual({ meter: 'null' });
        // Past the final-usage hour after the deprovisioning: the customer is inactive.
        w.emu.clock.set(at('2026-07-15T11:40:00Z'));
        await w.metering.flush();
        expect(await w.metering.getCustomer(customer!.key)).toMatchObject({ status: 'inactive' });
        expect(w.emu.inspect.totalFor({ licenseArn: subscription.licenseArn! })).toBe(2);
        expect(w.emu.inspect.duplicates()).toEqual([]);
      });

      it('keeps metering the same tenant on the same license after a renewal', async () => {
        const w = await start({ app: lifecycleApp(), events: true });
        const subscription = await w.emu.subscribe({ productCode: PRODUCT, registrationUrl: `${w.url}${REGISTER_PATH}` });
        const [customer] = await w.metering.listCustomers();
        await w.send('/work', { headers: as(customer!.tenantId!) });
        await w.emu.renew(subscription.licenseArn!);
        expect(w.emu.inspect.events().every((e) => e.status === 200)).toBe(true);
        expect(await w.metering.getCustomer(customer!.key)).toMatchObject({ status: 'active', tenantId: customer!.tenantId });
        expect((await w.send('/work', { headers: as(customer!.tenantId!) })).json()).toEqual({ meter: 'bound' });
        expect(await w.billed(subscription.licenseArn!)).toBe(2);
      });

      it('answers a replayed delivery 200 duplicate and changes nothing', async () => {
        const w = await start({ app: lifecycleApp(), events: true });
        const subscription = await w.emu.subscribe({ productCode: PRODUCT, registrationUrl: `${w.url}${REGISTER_PATH}` });
        const before = await w.metering.listCustomers();
        const event = JSON.stringify(w.emu.inspect.events()[2]!.body);
        for (let i = 0; i < 2; i++) {
          const replay = await w.send(EVENTS_PATH, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': SECRET }, body: event });
          expect([replay.status, replay.json()]).toEqual([200, { outcome: 'duplicate' }]);
        }
        expect(await w.metering.listCustomers()).toEqual(before);
        expect(subscription.licenseArn).toBeDefined();
      });

      it('refuses forged, unauthenticated, oversized and malformed deliveries with a 4xx and changes nothing', async () => {
        const w = await start({ app: lifecycleApp(), events: true });
        const subscription = await w.emu.subscribe({ productCode: PRODUCT, registrationUrl: `${w.url}${REGISTER_PATH}` });
        await w.emu.cancel(subscription.licenseArn!);
        const deprovision = w.emu.inspect.events().find((e) => e.detailType.startsWith('License Deprovisioned'))!.body as Record<string, unknown>;
        // A second app that has seen none of it receives the deliveries.
        const changes: SubscriptionEvent[] = [];
        const fresh = await startWorld(driver, { app: lifecycleApp(false, (event) => void changes.push(event)) });
        try {
          const body = JSON.stringify(deprovision);
          const post = async (headers: Record<string, string>, payload: string) =>
            (await fresh.send(EVENTS_PATH, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: payload })).status;
          const statuses = [
            await post({}, body),
            await post({ 'x-api-key': 'not-the-secret-not-the-secret' }, body),
            await post({ 'x-api-key': `${SECRET}x` }, body),
            await post({ 'x-api-key': SECRET }, JSON.stringify({ ...deprovision, source: 'evil.source' })),
            await post({ 'x-api-key': SECRET }, '{"detail-type": "License Deprovisioned"'),
            await post({ 'x-api-key': SECRET }, ''),
            await post({ 'x-api-key': SECRET, 'content-type': 'application/x-www-form-urlencoded' }, 'a=b'),
            await post({ 'x-api-key': SECRET, 'content-encoding': 'gzip' }, body),
            await post({ 'x-api-key': SECRET }, JSON.stringify({ ...deprovision, padding: 'x'.repeat(9000) })),
            // Past the platform's own parser limit too (Nest's app-wide parsers judge a body before meterkit's route).
            await post({ 'x-api-key': SECRET }, JSON.stringify({ ...deprovision, padding: 'x'.repeat(300_000) })),
            // SNS is not configured on this route.
            await post({ 'x-amz-sns-message-type': 'Notification', 'content-type': 'text/plain; charset=UTF-8' }, body),
          ];
          expect(statuses).toEqual([401, 401, 401, 400, 400, 400, 400, 400, 413, 413, 404]);
          expect(await fresh.metering.listCustomers()).toEqual([]);
          expect(changes).toEqual([]);

          const accepted = await fresh.send(EVENTS_PATH, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': SECRET }, body });
          expect([accepted.status, accepted.json()]).toEqual([200, { outcome: 'applied' }]);
          expect(await fresh.metering.listCustomers()).toHaveLength(1);
          expect(changes.map((event) => event.change)).toEqual(['deprovisioning']);
        } finally {
          await fresh.close();
        }
      });

      it('never meters a delivery: identify does not run for it, even with a metered tenant named', async () => {
        const w = await start({ app: lifecycleApp(), events: true });
        const subscription = await w.emu.subscribe({ productCode: PRODUCT, registrationUrl: `${w.url}${REGISTER_PATH}` });
        const [customer] = await w.metering.listCustomers();
        const tenant = customer!.tenantId!;
        const event = JSON.stringify(w.emu.inspect.events()[2]!.body);
        const delivery = await w.send(EVENTS_PATH, { method: 'POST', headers: { ...as(tenant), 'x-api-key': SECRET, 'content-type': 'application/json' }, body: event });
        expect([delivery.status, delivery.json()]).toEqual([200, { outcome: 'duplicate' }]);
        expect((await w.send('/work', { headers: as(tenant) })).json()).toEqual({ meter: 'bound' });
        expect(w.app.identified.map((url) => url.split('?')[0])).toEqual(['/work']);
        expect(await w.billed(subscription.licenseArn!)).toBe(1);
        expect(await w.metering.getCustomer(customer!.key)).toMatchObject({ status: 'active' });
      });

      it('logs a failing onSubscriptionChange hook through the framework\'s logger and still applies the event', async () => {
        const w = await start({
          app: lifecycleApp(false, async () => {
            throw new Error('grant service down');
          }),
          events: true,
        });
        await w.emu.subscribe({ productCode: PRODUCT, registrationUrl: `${w.url}${REGISTER_PATH}` });
        expect(w.emu.inspect.events().map((e) => e.status)).toEqual([200, 200, 200]);
        const [customer] = await w.metering.listCustomers();
        expect(customer).toMatchObject({ status: 'active' });
        await new Promise<void>((resolve) => setImmediate(resolve));
        const failures = w.app.logged.filter((line) => line.includes('onSubscriptionChange failed'));
        expect(failures.length).toBeGreaterThan(0);
        expect(failures.some((line) => line.includes('activated') && line.includes('grant service down'))).toBe(true);
      });

      it('accepts signed SNS notifications and refuses forged ones with 403', async () => {
        const w = await start({ app: lifecycleApp(true), sns: true });
        const subscription = await w.emu.subscribe({ productCode: LEGACY_PRODUCT, registrationUrl: `${w.url}${REGISTER_PATH}` });
        expect(subscription.registration?.status).toBe(200);
        const sns = w.emu.inspect.events().filter((e) => e.detailType.startsWith('SNS'));
        expect(sns.map((e) => [e.detailType, e.status])).toEqual([['SNS subscribe-success', 200]]);
        const [customer] = await w.metering.listCustomers();
        expect(customer).toMatchObject({ status: 'active' });

        const notification = sns[0]!.body as Record<string, string>;
        const message = JSON.parse(notification.Message!) as Record<string, unknown>;
        const forged = JSON.stringify({ ...notification, Message: JSON.stringify({ ...message, action: 'unsubscribe-success' }) });
        const refused = await w.send(EVENTS_PATH, { method: 'POST', headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' }, body: forged });
        expect(refused.status).toBe(403);
        expect(await w.metering.getCustomer(customer!.key)).toMatchObject({ status: 'active' });
      });
    });

    describe('entitlement check', () => {
      it('lets a contract buyer holding the entitlement through; one lacking it, or below atLeast, gets 403 ERR_METERKIT_ENTITLEMENT_REQUIRED', async () => {
        const w = await start({ contracts: true, app: { entitled: ENTITLED } });
        await w.contractBuyer('acme-contract', { seats: 10 });
        const through = await w.send('/entitled/seats', { headers: as('acme-contract') });
        expect([through.status, through.json()]).toEqual([200, { meter: 'bound' }]);
        for (const path of ['/entitled/sso', '/entitled/many-seats']) {
          const refused = await w.send(path, { headers: as('acme-contract') });
          expect([refused.status, refused.json()]).toEqual([403, { error: { code: ErrorCodes.ENTITLEMENT_REQUIRED, message: expect.any(String) } }]);
          expect(refused.headers.get('cache-control')).toBe('no-store');
        }
        expect(w.emu.inspect.calls('GetEntitlements').length).toBeGreaterThan(0);
      });

      it('answers 403 ERR_METERKIT_ENTITLEMENT_REQUIRED to a request naming no registered buyer and to a subscription buyer', async () => {
        const w = await start({ contracts: true, app: { entitled: ENTITLED } });
        await w.buyer('acme');
        for (const headers of [{}, as('nobody'), as('acme')]) {
          const refused = await w.send('/entitled/seats', { headers });
          expect([refused.status, refused.json().error.code]).toEqual([403, ErrorCodes.ENTITLEMENT_REQUIRED]);
        }
      });

      it('answers 503 ERR_METERKIT_STORE when the buyer cannot be looked up because the store is down: unknown is not refused', async () => {
        const w = await start({ contracts: true, app: { entitled: ENTITLED } });
        await w.contractBuyer('acme-contract', { seats: 10 });
        w.store.customersDown = true;
        const down = await w.send('/entitled/seats', { headers: as('acme-contract') });
        expect([down.status, down.json().error.code, down.headers.get('cache-control')]).toEqual([503, ErrorCodes.STORE, 'no-store']);
        w.store.customersDown = false;
        expect((await w.send('/entitled/seats', { headers: as('acme-contract') })).status).toBe(200);
      });

      it('lets the buyer through once an amendment raising the entitlement is read', async () => {
        const w = await start({ contracts: true, app: { entitled: ENTITLED } });
        const { licenseArn } = await w.contractBuyer('acme-contract', { seats: 10 });
        expect((await w.send('/entitled/many-seats', { headers: as('acme-contract') })).status).toBe(403);
        await w.emu.amend(licenseArn, { dimensions: { seats: 60 } });
        const customer = (await w.metering.listCustomers()).find((c) => c.tenantId === 'acme-contract')!;
        await w.metering.refreshEntitlements(customer, 'manual');
        w.emu.clock.advance(60_000);
        expect((await w.send('/entitled/many-seats', { headers: as('acme-contract') })).status).toBe(200);
      });

      it('refuses to start an app whose route requires an entitlement no contract product lists: ERR_METERKIT_UNKNOWN_DIMENSION', async () => {
        const failed = await startWorld(driver, { contracts: true, app: { entitled: [{ path: '/entitled/typo', dimension: 'no_such_entitlement' }] } }).then(
          (started) => {
            world = started;
            return undefined;
          },
          (error: unknown) => error,
        );
        expect(failed).toMatchObject({ code: ErrorCodes.UNKNOWN_DIMENSION, message: expect.stringContaining('no_such_entitlement') });
      });
    });

    describe('status route', () => {
      it('is off by default', async () => {
        const w = await start();
        expect((await w.send('/meterkit/status.json')).status).toBe(404);
        expect((await w.send('/meterkit/status.json', { headers: { authorization: `Bearer ${STATUS_TOKEN}` } })).status).toBe(404);
      });

      it('answers 401 without the token and 200 with it, and is never metered', async () => {
        const w = await start({ app: { statusPage: { token: STATUS_TOKEN } } });
        await w.buyer('acme');
        expect((await w.send('/meterkit/status.json', { headers: as('acme') })).status).toBe(401);
        expect((await w.send('/meterkit/status.json', { headers: { authorization: 'Bearer not-the-token-not-the-token' } })).status).toBe(401);
        const open = await w.send('/meterkit/status.json', { headers: { ...as('acme'), authorization: `Bearer ${STATUS_TOKEN}` } });
        expect(open.status).toBe(200);
        expect(open.headers.get('content-type')).toMatch(/^application\/json/);
        expect(typeof open.json()).toBe('object');
      });
    });
  });
}
