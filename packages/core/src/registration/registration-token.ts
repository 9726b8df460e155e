import { createHash } from 'node:crypto';
import { ErrorCodes, MeterkitError } from '../errors';

/** Tokens AWS issues are a few hundred characters; anything far larger is not a token. */
export const MAX_TOKEN_LENGTH = 4096;

const PRINTABLE = /^[\x21-\x7e]+$/;

/** Checks an untrusted registration token before it goes anywhere, without echoing it. */
export function assertTokenShape(token: unknown): asserts token is string {
  if (typeof token !== 'string' || token.length === 0) {
    throw new MeterkitError(
      ErrorCodes.TOKEN_MALFORMED,
      'The registration request carries no x-amzn-marketplace-token. Start again from "Set up your account" in AWS Marketplace.',
    );
  }
  if (token.length > MAX_TOKEN_LENGTH) {
    throw new MeterkitError(ErrorCodes.TOKEN_MALFORMED, `The registration token is longer than ${MAX_TOKEN_LENGTH} characters and was not sent to AWS.`, {
      details: { length: token.length },
    });
  }
  if (!PRINTABLE.test(token)) {
    throw new MeterkitError(ErrorCodes.TOKEN_MALFORMED, 'The registration token contains characters AWS never issues and was not sent to AWS.');
  }
}

/** The token's cache key: tokens themselves are never stored or logged. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
