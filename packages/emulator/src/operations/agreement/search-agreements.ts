/**
 * SearchAgreements as the seller (proposer): the AgreementType filter is required; LicenseArn, AcceptorAccountId,
 * Status, OfferId, ResourceIdentifier, InitialAgreementId and PartyType narrow it (values of one filter are
 * alternatives, filters combine). Other filters answer ValidationException (not emulated).
 */
import type { AgreementRecord } from '../../contracts/agreements';
import { productId } from '../../lifecycle/eventbridge-events';
import { asObject, optList, optString } from '../../rules/model-constraints';
import type { CallContext, EmulatorState, OperationResult } from '../../state/emulator-state';
import { endTimeBehaviorType, input, page, proposalSummary, seconds, validation } from './agreement-views';

const FIELDS: Record<string, (r: AgreementRecord) => string | undefined> = {
  AgreementType: () => 'PurchaseAgreement',
  PartyType: () => 'Proposer',
  LicenseArn: (r) => r.buyer.licenseArn,
  AcceptorAccountId: (r) => r.buyer.accountId,
  Status: (r) => r.status,
  OfferId: (r) => r.offerId,
  ResourceIdentifier: (r) => productId(r.buyer.productCode),
  InitialAgreementId: (r) => r.initialAgreementId,
};

export function searchAgreements(raw: unknown, state: EmulatorState, _ctx: CallContext): OperationResult {
  const o = input(raw);
  const catalog = optString(o, 'catalog', '');
  if (catalog !== undefined && catalog !== 'AWSMarketplace') throw validation(`catalog must be AWSMarketplace, got ${catalog}`);
  const filters = (optList(o, 'filters', '') ?? []).map((f, i) => {
    const fo = asObject(f, `filters.${i + 1}`);
    const name = optString(fo, 'name', '');
    const values = optList(fo, 'values', '');
    if (!name || !FIELDS[name]) throw validation(`Filter ${String(name)} is not supported by the emulator: use ${Object.keys(FIELDS).join(', ')}`);
    if (!values || values.length === 0 || values.some((v) => typeof v !== 'string')) throw validation(`Filter ${name} needs at least one string value`);
    return { get: FIELDS[name], name, values: values as string[] };
  });
  if (!filters.some((f) => f.name === 'AgreementType')) throw validation('The AgreementType filter is required');
  const matching = state.agreements.list().filter((r) => filters.every((f) => f.values.includes(f.get(r) as string)));
  const p = page(o, matching, 50);
  return {
    output: {
      agreementViewSummaries: p.items.map((r) => ({
        agreementId: r.agreementId,
        acceptanceTime: seconds(r.acceptanceTime),
        startTime: seconds(r.startTime),
        endTime: seconds(r.endTime),
        lastUpdateTime: seconds(r.lastUpdateTime),
        agreementType: 'PurchaseAgreement',
        acceptor: { accountId: r.buyer.accountId },
        proposer: { accountId: state.sellerAccountId },
        proposalSummary: proposalSummary(r),
        status: r.status,
        entitlements: r.buyer.licenseArn !== undefined ? [{ licenseArn: r.buyer.licenseArn }] : [],
        initialAgreementId: r.initialAgreementId,
        endTimeBehaviorType: endTimeBehaviorType(r),
      })),
      ...(p.nextToken ? { nextToken: p.nextToken } : {}),
    },
  };
}
