import { customerKey, LifecycleReceiver, MemoryStore, type CustomerRecord } from '../src';
import { identityOf, LICENSED, startWorld, type World } from './support/world';

const SECRET = 'a-connection-secret-of-32-chars!!';

/** A store on which another writer changes every customer right after each read: no conditional write can land. */
class StormedStore extends MemoryStore {
  override async getCustomer(key: string): Promise<CustomerRecord | undefined> {
    const read = await super.getCustomer(key);
    if (read !== undefined) await super.putCustomer({ ...read, updatedAt: read.updatedAt + 1 });
    return read;
  }
}

describe('a customer change that keeps conflicting', () => {
  let world: World;
  afterEach(() => world.close());

  it('writes nothing and answers 503 with ERR_METERKIT_CUSTOMER_CONFLICT, so EventBridge delivers again', async () => {
    const store = new StormedStore();
    world = await startWorld({ store });
    const subscription = await world.emu.subscribe({ productCode: LICENSED });
    const key = customerKey(identityOf(subscription));
    await store.putCustomer({ key, identity: identityOf(subscription), status: 'registered', registeredAt: 1, updatedAt: 1 });
    const before = await store.listCustomers();

    const receiver = new LifecycleReceiver(world.metering, { path: '/events', secret: SECRET });
    const event = {
      version: '0',
      id: 'license-updated',
      'detail-type': 'License Updated - Manufacturer',
      source: 'aws.agreement-marketplace',
      account: '111111111111',
      time: new Date(world.emu.clock.now()).toISOString(),
      region: 'us-east-1',
      resources: [],
      detail: { agreement: { id: subscription.agreementId }, product: { code: LICENSED }, license: { arn: subscription.licenseArn }, acceptor: { accountId: subscription.accountId } },
    };
    const result = await receiver.handle({ headers: { 'x-api-key': SECRET }, body: JSON.stringify(event) });
    expect(result).toMatchObject({ status: 503, body: { error: { code: 'ERR_METERKIT_CUSTOMER_CONFLICT' } } });
    const after = (await store.listCustomers()).map(({ updatedAt: _u, version: _v, ...rest }) => rest);
    expect(after).toEqual(before.map(({ updatedAt: _u, version: _v, ...rest }) => rest));
    expect(after[0]).toMatchObject({ status: 'registered' });
  });
});
