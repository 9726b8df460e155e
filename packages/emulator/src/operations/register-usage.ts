/** RegisterUsage: returns a PS256 JWT over {ProductCode, PublicKeyVersion, Nonce, iat}. */
import { AwsError } from '../rules/errors';
import { PRODUCT_CODE_RE, Violations, asObject, optInteger, optString } from '../rules/model-constraints';
import type { CallContext, EmulatorState, OperationResult } from '../state/emulator-state';

export function registerUsage(input: unknown, state: EmulatorState, ctx: CallContext): OperationResult {
  const o = asObject(input, '');
  const productCode = optString(o, 'ProductCode', '');
  const version = optInteger(o, 'PublicKeyVersion', '');
  const nonce = optString(o, 'Nonce', '');
  const v = new Violations();
  v.required(productCode, 'productCode');
  v.length(productCode, 'productCode', 0, 255);
  v.pattern(productCode, 'productCode', PRODUCT_CODE_RE);
  v.required(version, 'publicKeyVersion');
  v.range(version, 'publicKeyVersion', 1);
  v.length(nonce, 'nonce', 0, 255);
  v.throwIfAny();

  if (ctx.signedRegion && ctx.signedRegion !== state.region)
    throw new AwsError('InvalidRegionException', `RegisterUsage must be called in the launch region ${state.region}, not ${ctx.signedRegion}`);
  if (!state.products.has(productCode as string)) throw new AwsError('InvalidProductCodeException', `Product code ${productCode} is not valid`);
  if (!state.keys.has(version as number)) throw new AwsError('InvalidPublicKeyVersionException', `Public key version ${version} is not valid`);
  const claims = {
    ProductCode: productCode as string,
    PublicKeyVersion: version as number,
    ...(nonce !== undefined ? { Nonce: nonce } : {}),
    iat: Math.floor(ctx.now / 1000),
  };
  const output: Record<string, unknown> = { Signature: state.keys.sign(claims) };
  const rotatedAt = state.keys.rotatedAt(version as number);
  if (rotatedAt !== undefined) output.PublicKeyRotationTimestamp = Math.floor(rotatedAt / 1000);
  return { output };
}
