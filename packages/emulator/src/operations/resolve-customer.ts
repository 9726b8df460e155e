/** ResolveCustomer: registration token → customer, reusable until the token expires. */
import { AwsError } from '../rules/errors';
import { Violations, asObject, optString } from '../rules/model-constraints';
import type { CallContext, EmulatorState, OperationResult } from '../state/emulator-state';

export function resolveCustomer(input: unknown, state: EmulatorState, ctx: CallContext): OperationResult {
  const o = asObject(input, '');
  const token = optString(o, 'RegistrationToken', '');
  const v = new Violations();
  v.required(token, 'registrationToken');
  v.length(token, 'registrationToken', 1);
  v.throwIfAny();
  const found = state.tokens.resolve(token as string, ctx.now);
  if (!found.ok) {
    if (found.reason === 'expired') throw new AwsError('ExpiredTokenException', 'The registration token has expired');
    throw new AwsError('InvalidTokenException', 'The registration token is invalid');
  }
  const b = state.buyers.byRef(found.buyerRef);
  if (!b) throw new AwsError('InvalidTokenException', 'The registration token is invalid');
  const output =
    b.identity === 'license'
      ? { CustomerAWSAccountId: b.accountId, ProductCode: b.productCode, LicenseArn: b.licenseArn }
      : { CustomerIdentifier: b.customerIdentifier, CustomerAWSAccountId: b.accountId, ProductCode: b.productCode };
  return { output };
}
