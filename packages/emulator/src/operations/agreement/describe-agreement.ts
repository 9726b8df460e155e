/** DescribeAgreement: parties, dates, status, the product and offer, the renewal chain's first agreement. */
import type { CallContext, EmulatorState, OperationResult } from '../../state/emulator-state';
import { agreementOf, endTimeBehaviorType, input, proposalSummary, seconds } from './agreement-views';

export function describeAgreement(raw: unknown, state: EmulatorState, _ctx: CallContext): OperationResult {
  const r = agreementOf(input(raw), state);
  return {
    output: {
      agreementId: r.agreementId,
      acceptor: { accountId: r.buyer.accountId },
      proposer: { accountId: state.sellerAccountId },
      startTime: seconds(r.startTime),
      endTime: seconds(r.endTime),
      acceptanceTime: seconds(r.acceptanceTime),
      agreementType: 'PurchaseAgreement',
      proposalSummary: proposalSummary(r),
      status: r.status,
      initialAgreementId: r.initialAgreementId,
      endTimeBehavior: { type: endTimeBehaviorType(r) },
    },
  };
}
