import { createMetering, MemoryStore, silentLogger, type CustomerIdentity, type Metering, type UsageDelta } from '@meterkit/core';
import express from 'express';
import request from 'supertest';
import { meterkit } from './meterkit';

/** A memory store whose writes wait until the test lets them through. */
class GatedStore extends MemoryStore {
  writes = 0;
  private gate: (() => void) | undefined;
  private written: (() => void) | undefined;
  readonly writing = new Promise<void>((resolve) => (this.written = resolve));

  override async addUsage(deltas: readonly UsageDelta[]) {
    this.writes += 1;
    this.written?.();
    await new Promise<void>((resolve) => (this.gate = resolve));
    return super.addUsage(deltas);
  }

  letThrough(): void {
    this.gate?.();
  }
}

const customer: CustomerIdentity = {
  kind: 'license',
  licenseArn: 'arn:aws:license-manager::294406891311:license:l-00000000000000000000000000000001',
  customerAwsAccountId: '100000000001',
  productCode: 'prod-sample',
};

let metering: Metering;
afterEach(() => metering.close());

function appWith(store: GatedStore, persistBeforeResponse: boolean, status = 200) {
  metering = createMetering({
    products: [{ productCode: 'prod-sample', dimensions: ['api_calls'] }],
    store,
    durability: 'sync',
    autoStart: false,
    logger: silentLogger,
  });
  const app = express();
  const mk = meterkit(metering, { identify: () => customer, start: false, persistBeforeResponse });
  app.use(mk);
  app.get('/work', mk.count('api_calls', 3), (_req, res) => {
    res.status(status).json({ done: true });
  });
  return app;
}

async function quantityIn(store: MemoryStore): Promise<number> {
  return (await store.listRecords()).reduce((sum, record) => sum + record.quantity, 0);
}

it('with persistBeforeResponse, the response leaves only once the usage is in the store', async () => {
  const store = new GatedStore();
  let answered = false;
  const response = request(appWith(store, true)).get('/work').then((res) => {
    answered = true;
    return res;
  });
  await store.writing;
  // The write has started and is held: the client has no response yet.
  await new Promise((resolve) => setImmediate(resolve));
  expect(answered).toBe(false);
  store.letThrough();
  expect((await response).status).toBe(200);
  expect(await quantityIn(store)).toBe(3);
  expect(store.writes).toBe(1);
});

it('without it, the response does not wait for the store', async () => {
  const store = new GatedStore();
  const response = await request(appWith(store, false)).get('/work');
  expect(response.status).toBe(200);
  expect(await quantityIn(store)).toBe(0);
  await store.writing;
  store.letThrough();
});

it('discards by the commit policy: a 500 is neither billed nor waited for', async () => {
  const store = new GatedStore();
  const response = await request(appWith(store, true, 500)).get('/work');
  expect(response.status).toBe(500);
  expect(store.writes).toBe(0);
  await metering.persist();
  expect(await quantityIn(store)).toBe(0);
});
