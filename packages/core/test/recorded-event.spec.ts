import { createMetering, silentLogger, type Metering, type MeteringEvents } from '../src';

const CUSTOMER = {
  kind: 'license',
  licenseArn: 'arn:aws:license-manager::123456789012:license:l-recorded',
  customerAwsAccountId: '123456789012',
  productCode: 'prod-saas',
} as const;

type Recorded = MeteringEvents['recorded'];

describe('the recorded event', () => {
  let metering: Metering;

  beforeEach(() => {
    metering = createMetering({
      products: [{ productCode: 'prod-saas', dimensions: ['api_calls', 'gb_processed'] }],
      store: 'memory',
      logger: silentLogger,
      autoStart: false,
    });
  });

  afterEach(() => metering.close());

  const commit = (records: Array<[string, number]>): Promise<void> => {
    const meter = metering.meter(CUSTOMER);
    for (const [dimension, quantity] of records) meter.record(dimension, quantity);
    return meter.commit();
  };

  it('reaches each listener once per commit, with the records and units of that commit', async () => {
    const heard: Recorded[] = [];
    metering.on('recorded', (event) => heard.push(event));
    await commit([
      ['api_calls', 2],
      ['gb_processed', 5],
    ]);
    await commit([['api_calls', 1]]);
    expect(heard.map(({ records, quantity }) => ({ records, quantity }))).toEqual([
      { records: 2, quantity: 7 },
      { records: 1, quantity: 1 },
    ]);
  });

  it('stops with off(), and a once() listener hears one commit', async () => {
    const kept: number[] = [];
    const removed: number[] = [];
    const onceOnly: number[] = [];
    const removedListener = (event: Recorded): void => void removed.push(event.quantity);
    metering.on('recorded', (event) => kept.push(event.quantity));
    metering.on('recorded', removedListener);
    metering.once('recorded', (event) => onceOnly.push(event.quantity));
    await commit([['api_calls', 1]]);
    metering.off('recorded', removedListener);
    await commit([['api_calls', 2]]);
    expect({ kept, removed, onceOnly }).toEqual({ kept: [1, 2], removed: [1], onceOnly: [1] });
  });

  it('is heard again by a listener added after every earlier one was removed', async () => {
    const first: number[] = [];
    const later: number[] = [];
    const listener = (event: Recorded): void => void first.push(event.quantity);
    metering.on('recorded', listener);
    metering.off('recorded', listener);
    metering.once('recorded', () => undefined);
    await commit([['api_calls', 1]]);
    metering.on('recorded', (event) => later.push(event.quantity));
    await commit([['api_calls', 3]]);
    expect({ first, later }).toEqual({ first: [], later: [3] });
  });
});
