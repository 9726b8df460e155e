import fc from 'fast-check';
import { ErrorCodes, MeterkitError } from '../errors';
import type { Product } from '../model/product';
import { Aggregator } from './aggregator';
import type { BoundCustomer } from './bound-customer';
import { RequestMeter, type MeterSink } from './request-meter';

const H = 3_600_000;
const product: Product = { productCode: 'prod-a', identity: 'license', dimensions: new Set(['api_calls', 'gb']) };
const customer: BoundCustomer = {
  identity: { kind: 'license', licenseArn: 'arn:aws:license-manager::1:license:l-1', customerAwsAccountId: '222222222222', productCode: 'prod-a' },
  key: 'license:l-1',
  product,
};

function setup() {
  const aggregator = new Aggregator();
  const sink: MeterSink = {
    commit: (c, hour, dims, qtys, tags, count) => {
      aggregator.add(c, hour, dims, qtys, tags, count);
      return Promise.resolve();
    },
  };
  return { aggregator, meter: (hour = 10 * H) => new RequestMeter(sink, customer, hour) };
}

describe('request meter and aggregation', () => {
  it('sums a customer\'s usage per dimension and hour across requests', async () => {
    const { aggregator, meter } = setup();
    await meter().record('api_calls').record('api_calls', 4).record('gb', 2).commit();
    await meter().record('api_calls', 5).commit();
    await meter(11 * H).record('api_calls').commit();
    const deltas = aggregator.drain();
    expect(deltas.map((d) => [d.dimension, d.hour, d.quantity]).sort()).toEqual(
      [
        ['api_calls', 10 * H, 10],
        ['gb', 10 * H, 2],
        ['api_calls', 11 * H, 1],
      ].sort(),
    );
    expect(aggregator.drain()).toEqual([]);
  });

  it('keeps tagged usage apart per tag set and merges identical tag sets', async () => {
    const { aggregator, meter } = setup();
    await meter().record('gb', 3, { tags: { team: 'blue' } }).record('gb', 1).commit();
    await meter().record('gb', 2, { tags: { team: 'blue' } }).record('gb', 4, { tags: { team: 'red' } }).commit();
    const deltas = aggregator.drain();
    const byTags = Object.fromEntries(deltas.map((d) => [d.tags ? JSON.stringify(d.tags) : 'untagged', d.quantity]));
    expect(byTags).toEqual({ untagged: 1, '{"team":"blue"}': 5, '{"team":"red"}': 4 });
  });

  it('records nothing on discard and nothing twice on a second commit', async () => {
    const { aggregator, meter } = setup();
    const m = meter();
    m.record('api_calls', 7);
    m.discard();
    await m.commit();
    m.record('api_calls', 2);
    await m.commit();
    await m.commit();
    expect(aggregator.drain().map((d) => d.quantity)).toEqual([2]);
  });

  it('throws a typed error for bad input and keeps the request\'s valid records', async () => {
    const { aggregator, meter } = setup();
    const m = meter().record('api_calls', 3);
    const bad: Array<() => unknown> = [
      () => m.record('nope'),
      () => m.record('api_calls', -1),
      () => m.record('api_calls', 0.5),
      () => m.record('gb', 1, { tags: { 'bad key!~': 'x' } }),
    ];
    for (const call of bad) expect(call).toThrow(MeterkitError);
    await m.commit();
    expect(aggregator.drain().map((d) => d.quantity)).toEqual([3]);
  });

  it('keeps a zero-quantity record so the hour is reported', async () => {
    const { aggregator, meter } = setup();
    await meter().record('api_calls', 0).commit();
    expect(aggregator.drain()).toEqual([expect.objectContaining({ dimension: 'api_calls', quantity: 0, tagsKey: '' })]);
  });

  it('refuses usage that would push an hour past the largest quantity AWS accepts', () => {
    const aggregator = new Aggregator();
    expect(aggregator.add(customer, 0, ['gb'], [2_147_483_000], undefined, 1)).toBeUndefined();
    const overflow = aggregator.add(customer, 0, ['gb', 'api_calls'], [1000, 1], undefined, 2);
    expect(overflow).toEqual([expect.objectContaining({ dimension: 'gb', quantity: 1000 })]);
    expect(aggregator.drain().map((d) => d.quantity).sort()).toEqual([1, 2_147_483_000]);
  });

  it('reports the dimension error code of an unknown dimension', () => {
    const { meter } = setup();
    expect(() => meter().record('x')).toThrow(expect.objectContaining({ code: ErrorCodes.UNKNOWN_DIMENSION }));
  });

  /**
   * Invariant: one meter used for any sequence of record() (tagged or not), commit() and discard() delivers to the
   * aggregate exactly the records made since its last commit or discard, each once, whatever was recorded before
   * (the meter's buffers are created by its first record and reused after each commit).
   */
  it('commits exactly what was recorded since the last commit or discard (property)', async () => {
    const step = fc.oneof(
      { weight: 4, arbitrary: fc.record({ dimension: fc.constantFrom('api_calls', 'gb'), quantity: fc.integer({ min: 0, max: 1000 }), team: fc.constantFrom(undefined, 'blue', 'red') }) },
      { weight: 2, arbitrary: fc.constant('commit' as const) },
      { weight: 1, arbitrary: fc.constant('discard' as const) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 30 }), async (steps) => {
        const { aggregator, meter } = setup();
        const m = meter();
        const expected = new Map<string, number>();
        let buffered: Array<{ key: string; quantity: number }> = [];
        for (const s of steps) {
          if (s === 'commit') {
            await m.commit();
            for (const r of buffered) expected.set(r.key, (expected.get(r.key) ?? 0) + r.quantity);
            buffered = [];
          } else if (s === 'discard') {
            m.discard();
            buffered = [];
          } else {
            m.record(s.dimension, s.quantity, s.team === undefined ? undefined : { tags: { team: s.team } });
            buffered.push({ key: `${s.dimension}|${s.team ?? ''}`, quantity: s.quantity });
          }
          expect(m.pending).toBe(buffered.length);
        }
        const got = new Map<string, number>();
        for (const d of aggregator.drain()) got.set(`${d.dimension}|${d.tags?.team ?? ''}`, d.quantity);
        expect(got).toEqual(expected);
      }),
    );
  });
});
