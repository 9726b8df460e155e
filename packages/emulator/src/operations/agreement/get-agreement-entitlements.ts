/** GetAgreementEntitlements: the agreement's provisioning state and license (never quantities: those are GetEntitlements'). */
import { productId } from '../../lifecycle/eventbridge-events';
import type { CallContext, EmulatorState, OperationResult } from '../../state/emulator-state';
import { agreementOf, input, page } from './agreement-views';

export function getAgreementEntitlements(raw: unknown, state: EmulatorState, _ctx: CallContext): OperationResult {
  const o = input(raw);
  const r = agreementOf(o, state);
  const provisioned = r.status === 'ACTIVE' && r.buyer.status === 'active' && r.buyer.agreementId === r.agreementId;
  const entitlement = {
    resource: { id: productId(r.buyer.productCode), type: 'SaaSProduct' },
    type: 'License',
    status: provisioned ? 'PROVISIONED' : 'DEPROVISIONED',
    statusReasonCode: provisioned ? 'AGREEMENT_ACTIVE' : 'AGREEMENT_INACTIVE',
    ...(r.buyer.licenseArn !== undefined ? { licenseArn: r.buyer.licenseArn } : {}),
  };
  const p = page(o, [entitlement], 50);
  return { output: { agreementEntitlements: p.items, ...(p.nextToken ? { nextToken: p.nextToken } : {}) } };
}
