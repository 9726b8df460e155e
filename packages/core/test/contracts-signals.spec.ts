import { customerKey, type CustomerRecord, type LifecycleEvent } from '../src';
import { resolveOptions } from '../src/options';
import { entitlementSignals } from '../src/contracts/entitlement-signals';

const products = resolveOptions({
  products: [
    { productCode: 'prod-contract', dimensions: [], pricing: 'contract', entitlements: ['seats'] },
    { productCode: 'prod-legacy', dimensions: [], pricing: 'contract', identity: 'legacy' },
    { productCode: 'prod-subscribe', dimensions: ['api'] },
  ],
  store: 'memory',
  autoStart: false,
}).products;
const ARN = 'arn:aws:license-manager::111111111111:license:l-1';
const license = { kind: 'license' as const, licenseArn: ARN, customerAwsAccountId: '123456789012', productCode: 'prod-contract' };
const record = (identity: CustomerRecord['identity'], agreementId: string): CustomerRecord => ({ key: customerKey(identity), identity, status: 'active', agreementId, registeredAt: 1, updatedAt: 1 });
const stored = [
  record(license, 'agmt-1'),
  record({ kind: 'license', licenseArn: `${ARN}2`, customerAwsAccountId: '123456789012', productCode: 'prod-subscribe' }, 'agmt-1'),
];
const event = (change: LifecycleEvent['change']): LifecycleEvent => ({ id: 'evt-1', time: 1, type: 'x', change });
const signals = (change: LifecycleEvent['change']) =>
  entitlementSignals(event(change), products, async (id) => stored.filter((c) => c.agreementId === id)).then((all) =>
    all.map((s) => ({ key: s.customer.key, trigger: s.request.trigger, change: s.request.changeSignal, end: s.request.endSignal, endIfExpired: s.request.endIfExpired === true })),
  );

describe('which lifecycle events re-read entitlements', () => {
  it('license events re-read their license; Deprovisioned is an end signal', async () => {
    const common = { licenseArn: ARN, productCode: 'prod-contract', accountId: '123456789012' };
    await expect(signals({ kind: 'license-updated', ...common })).resolves.toEqual([{ key: customerKey(license), trigger: 'event:evt-1', change: true, end: false, endIfExpired: false }]);
    await expect(signals({ kind: 'license-deprovisioned', ...common })).resolves.toEqual([expect.objectContaining({ end: true })]);
    await expect(signals({ kind: 'license-updated', ...common, productCode: 'prod-subscribe' })).resolves.toEqual([]);
  });

  it("agreement events re-read the agreement's contract customers; Ended is an end signal unless renewed or replaced", async () => {
    await expect(signals({ kind: 'agreement-amended', agreementId: 'agmt-1' })).resolves.toEqual([expect.objectContaining({ key: customerKey(license), end: false })]);
    await expect(signals({ kind: 'agreement-ended', agreementId: 'agmt-1', status: 'CANCELLED' })).resolves.toEqual([expect.objectContaining({ end: true })]);
    await expect(signals({ kind: 'agreement-ended', agreementId: 'agmt-1', status: 'EXPIRED' })).resolves.toEqual([expect.objectContaining({ end: true })]);
    await expect(signals({ kind: 'agreement-ended', agreementId: 'agmt-1', status: 'RENEWED' })).resolves.toEqual([expect.objectContaining({ end: false })]);
    await expect(signals({ kind: 'agreement-ended', agreementId: 'agmt-1', status: 'REPLACED' })).resolves.toEqual([expect.objectContaining({ end: false })]);
    await expect(signals({ kind: 'agreement-created', agreementId: 'agmt-2', intent: 'RENEW', previousAgreementId: 'agmt-1' })).resolves.toEqual([expect.objectContaining({ end: false })]);
    await expect(signals({ kind: 'agreement-amended', agreementId: 'agmt-unknown' })).resolves.toEqual([]);
  });

  it('SNS: entitlement-updated is an end signal only after expiry, unsubscribe-* always; subscription products read nothing', async () => {
    const legacy = { productCode: 'prod-legacy', customerIdentifier: 'cust-1' };
    const key = customerKey({ kind: 'legacy', ...legacy });
    await expect(signals({ kind: 'legacy-entitlement-updated', ...legacy })).resolves.toEqual([{ key, trigger: 'event:evt-1', change: true, end: false, endIfExpired: true }]);
    await expect(signals({ kind: 'legacy-unsubscribe-pending', ...legacy })).resolves.toEqual([expect.objectContaining({ key, end: true })]);
    await expect(signals({ kind: 'legacy-unsubscribe-success', ...legacy })).resolves.toEqual([expect.objectContaining({ key, end: true })]);
    await expect(signals({ kind: 'legacy-subscribe-success', ...legacy })).resolves.toEqual([]);
    await expect(signals({ kind: 'legacy-entitlement-updated', productCode: 'prod-subscribe', customerIdentifier: 'c' })).resolves.toEqual([]);
    await expect(signals(undefined)).resolves.toEqual([]);
  });
});
