import { importSPKI, jwtVerify } from 'jose';
import { ErrorCodes, MeterkitError } from '../errors';

/** What a RegisterUsage signature must state: exactly what was asked. */
export interface ExpectedClaims {
  readonly productCode: string;
  readonly publicKeyVersion: number;
  readonly nonce: string;
}

function forged(message: string, cause?: unknown): MeterkitError {
  return new MeterkitError(ErrorCodes.ENTITLEMENT_SIGNATURE, message, { details: { reason: message }, ...(cause === undefined ? {} : { cause }) });
}

/**
 * Verifies RegisterUsage's `Signature`: a PS256 JWT signed with AWS's key for `publicKeyVersion`, whose
 * ProductCode, PublicKeyVersion and Nonce equal the request. Throws ERR_METERKIT_ENTITLEMENT_SIGNATURE.
 */
export async function verifyRegisterUsageSignature(signature: unknown, publicKeyPem: string, expected: ExpectedClaims): Promise<void> {
  if (typeof signature !== 'string' || signature.length === 0) throw forged('RegisterUsage answered without a signature.');
  let payload: Record<string, unknown>;
  try {
    const key = await importSPKI(publicKeyPem, 'PS256');
    ({ payload } = await jwtVerify(signature, key, { algorithms: ['PS256'] }));
  } catch (cause) {
    throw forged('The RegisterUsage signature does not verify with the configured public key (PS256).', cause);
  }
  if (payload.ProductCode !== expected.productCode) throw forged('The signed ProductCode differs from the product registered.');
  if (payload.PublicKeyVersion !== expected.publicKeyVersion) throw forged('The signed PublicKeyVersion differs from the one requested.');
  if (payload.Nonce !== expected.nonce) throw forged('The signed Nonce differs from this start\'s nonce: the answer is a replay or forged.');
}
