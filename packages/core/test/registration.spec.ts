import { isMeterkitError, type MeteringEvents } from '../src';
import { startWorld, type World } from './support/world';

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  return isMeterkitError(error) ? error.code : String(error);
}

describe('registration (ResolveCustomer)', () => {
  let world: World;
  afterEach(() => world.close());

  it('resolves a buyer\'s token to a stored license with its product and account', async () => {
    world = await startWorld();
    const registered: MeteringEvents['registered'][] = [];
    world.metering.on('registered', (e) => registered.push(e));
    const subscription = await world.emu.subscribe({ productCode: 'prod-licensed' });
    const customer = await world.metering.resolveRegistration(subscription.token);
    expect(customer.identity).toEqual({
      kind: 'license',
      licenseArn: subscription.licenseArn,
      customerAwsAccountId: subscription.accountId,
      productCode: 'prod-licensed',
    });
    expect(customer.status).toBe('registered');
    expect(await world.metering.getCustomer(customer.key)).toMatchObject({ key: customer.key, region: 'us-east-1' });
    expect(registered).toEqual([{ customer, firstTime: true }]);
  });

  it('resolves a legacy buyer by CustomerIdentifier', async () => {
    world = await startWorld();
    const subscription = await world.emu.subscribe({ productCode: 'prod-legacy' });
    const customer = await world.metering.resolveRegistration(subscription.token);
    expect(customer.identity).toEqual({ kind: 'legacy', productCode: 'prod-legacy', customerIdentifier: subscription.customerIdentifier });
  });

  it('is idempotent when the browser posts the same token again, without a second AWS call', async () => {
    world = await startWorld();
    const { token } = await world.emu.subscribe({ productCode: 'prod-licensed' });
    const first = await world.metering.resolveRegistration(token);
    const second = await world.metering.resolveRegistration(token);
    expect(second).toEqual(first);
    expect(world.emu.inspect.calls('ResolveCustomer')).toHaveLength(1);
    expect(await world.metering.listCustomers()).toHaveLength(1);
  });

  it('keeps the first registration time and the tenant link when a buyer registers again', async () => {
    world = await startWorld();
    const subscription = await world.emu.subscribe({ productCode: 'prod-licensed' });
    const first = await world.metering.resolveRegistration(subscription.token);
    await world.metering.linkTenant(first.key, 'tenant-42');
    world.emu.clock.advance(60_000);
    const again = await world.metering.resolveRegistration(world.emu.issueToken(subscription.licenseArn!));
    expect(again).toMatchObject({ tenantId: 'tenant-42', registeredAt: first.registeredAt });
    expect(again.updatedAt).toBeGreaterThan(first.updatedAt);
  });

  it('meters a linked tenant through meterFor(tenantId)', async () => {
    world = await startWorld();
    const { token } = await world.emu.subscribe({ productCode: 'prod-licensed' });
    const customer = await world.metering.resolveRegistration(token);
    await world.metering.linkTenant(customer.key, 'tenant-7');
    await (await world.metering.meterFor('tenant-7')).record('api_calls', 2).commit();
    await expect(world.metering.meterFor('tenant-unknown')).rejects.toMatchObject({ code: 'ERR_METERKIT_UNKNOWN_CUSTOMER' });
    world.setTime('2026-07-15T11:30:00Z');
    await world.metering.flush();
    expect(world.emu.inspect.totalFor({ licenseArn: (customer.identity as { licenseArn: string }).licenseArn })).toBe(2);
  });

  it('refuses metering for an inactive customer', async () => {
    world = await startWorld();
    const { token } = await world.emu.subscribe({ productCode: 'prod-licensed' });
    const customer = await world.metering.resolveRegistration(token);
    await world.metering.putCustomer({ ...customer, status: 'inactive' });
    await expect(world.metering.meterFor(customer)).rejects.toMatchObject({ code: 'ERR_METERKIT_CUSTOMER_INACTIVE' });
  });

  it('gives an expired token ERR_METERKIT_TOKEN_EXPIRED', async () => {
    world = await startWorld();
    const { token } = await world.emu.subscribe({ productCode: 'prod-licensed' });
    world.emu.clock.advance(4 * 3_600_000 + 60_000);
    expect(await codeOf(world.metering.resolveRegistration(token))).toBe('ERR_METERKIT_TOKEN_EXPIRED');
  });

  it('gives a forged token ERR_METERKIT_TOKEN_INVALID', async () => {
    world = await startWorld();
    expect(await codeOf(world.metering.resolveRegistration('forged-token-123'))).toBe('ERR_METERKIT_TOKEN_INVALID');
  });

  it.each([
    ['an empty token', ''],
    ['a missing token', undefined],
    ['an oversized token', 'x'.repeat(5000)],
    ['a token with control characters', 'abc\n<script>'],
    ['a non-string token', { token: 'x' }],
  ])('refuses %s without calling AWS', async (_name, token) => {
    world = await startWorld();
    expect(await codeOf(world.metering.resolveRegistration(token))).toBe('ERR_METERKIT_TOKEN_MALFORMED');
    expect(world.emu.inspect.calls('ResolveCustomer')).toEqual([]);
  });

  it('refuses a token of a product this app does not meter', async () => {
    world = await startWorld({ products: [{ productCode: 'prod-licensed', dimensions: ['api_calls'] }] });
    const { token } = await world.emu.subscribe({ productCode: 'prod-legacy' });
    expect(await codeOf(world.metering.resolveRegistration(token))).toBe('ERR_METERKIT_UNKNOWN_PRODUCT');
    expect(await world.metering.listCustomers()).toEqual([]);
  });

  it('retries ResolveCustomer when AWS throttles', async () => {
    world = await startWorld();
    const { token } = await world.emu.subscribe({ productCode: 'prod-licensed' });
    world.emu.faults.failNext('ResolveCustomer', 'ThrottlingException', 2);
    await expect(world.metering.resolveRegistration(token)).resolves.toMatchObject({ status: 'registered' });
    expect(world.emu.inspect.calls('ResolveCustomer')).toHaveLength(3);
  });
});
