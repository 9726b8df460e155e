import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { RegisterUsageCommand, type MarketplaceMeteringClient } from '@aws-sdk/client-marketplace-metering';
import { classifyError, errorName } from '../aws/classify-error';
import { ErrorCodes, MeterkitError, type ErrorCode } from '../errors';
import type { MeteringEmitter } from '../events';
import type { Logger } from '../logger';
import { backoffDelay } from '../send/backoff';
import type { ResolvedEntitlementOptions } from './entitlement-options';
import { verifyRegisterUsageSignature } from './verify-signature';

/** `pending` until RegisterUsage answered with a valid signature (`entitled`) or refused for good (`refused`). */
export type EntitlementStatus =
  | { readonly state: 'pending' }
  | {
      readonly state: 'entitled';
      readonly productCode: string;
      readonly publicKeyVersion: number;
      /** When the signature was verified (ms epoch). */
      readonly entitledAt: number;
      /** Set when AWS says this public key version has expired: rotate to the new key. */
      readonly publicKeyRotationTimestamp?: number;
    }
  | { readonly state: 'refused'; readonly error: MeterkitError };

const REFUSALS: Readonly<Record<string, { code: ErrorCode; message: string }>> = {
  CustomerNotEntitledException: { code: ErrorCodes.NOT_ENTITLED, message: 'The buyer has no subscription to this container product: stop the container.' },
  PlatformNotSupportedException: { code: ErrorCodes.PLATFORM_NOT_SUPPORTED, message: 'RegisterUsage works only on Amazon ECS, Amazon EKS and AWS Fargate.' },
  InvalidPublicKeyVersionException: { code: ErrorCodes.PUBLIC_KEY_VERSION, message: 'AWS does not know this publicKeyVersion for the product.' },
  InvalidRegionException: { code: ErrorCodes.ENTITLEMENT_REGION, message: 'RegisterUsage must be called in the region the task or pod was launched in: do not hard-code it.' },
};

export interface EntitlementDeps {
  readonly client: MarketplaceMeteringClient;
  readonly events: MeteringEmitter;
  readonly logger: Logger;
  readonly clock: () => number;
}

/**
 * Registers this running container with RegisterUsage once, with a fresh nonce, retrying transient failures,
 * and verifies the signed answer. The outcome is cached for the life of the process.
 */
export class Entitlement {
  private current: EntitlementStatus = { state: 'pending' };
  private running: Promise<EntitlementStatus> | undefined;
  private readonly stopped = new AbortController();

  constructor(private readonly d: EntitlementDeps) {}

  status(): EntitlementStatus {
    return this.current;
  }

  /** Resolves once entitled; rejects with the typed error when refused. A refused registration may be tried again. */
  register(options: ResolvedEntitlementOptions): Promise<EntitlementStatus> {
    if (this.current.state === 'entitled') return Promise.resolve(this.current);
    this.running ??= this.attempt(options).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Ends a retry loop in progress (close()). */
  stop(): void {
    this.stopped.abort();
  }

  /** Resolves when no registration is running. */
  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  private async attempt(options: ResolvedEntitlementOptions): Promise<EntitlementStatus> {
    this.current = { state: 'pending' };
    try {
      const status = await this.call(options);
      this.current = status;
      return status;
    } catch (cause) {
      const error = cause instanceof MeterkitError ? cause : new MeterkitError(ErrorCodes.ENTITLEMENT_FAILED, 'RegisterUsage failed.', { cause });
      this.current = { state: 'refused', error };
      if (error.code === ErrorCodes.CLOSED) throw error;
      this.d.logger.error({ code: error.code, awsException: error.awsException }, error.message);
      this.d.events.emit('error', { error });
      throw error;
    }
  }

  private async call(options: ResolvedEntitlementOptions): Promise<EntitlementStatus> {
    const nonce = randomBytes(32).toString('base64url');
    const giveUpAt = Date.now() + options.retryForMs;
    const policy = { attempts: Number.MAX_SAFE_INTEGER, baseDelayMs: options.baseDelayMs, maxDelayMs: options.maxDelayMs };
    for (let failures = 1; ; failures++) {
      if (this.stopped.signal.aborted) throw new MeterkitError(ErrorCodes.CLOSED, 'Metering was closed before RegisterUsage succeeded.');
      let output;
      try {
        output = await this.d.client.send(
          new RegisterUsageCommand({ ProductCode: options.productCode, PublicKeyVersion: options.publicKeyVersion, Nonce: nonce }),
        );
      } catch (error) {
        const name = errorName(error);
        const refusal = REFUSALS[name];
        if (refusal !== undefined) throw new MeterkitError(refusal.code, refusal.message, { awsException: name, cause: error });
        const delay = backoffDelay(policy, failures);
        if (classifyError(error) !== 'retry' || Date.now() + delay >= giveUpAt) {
          throw new MeterkitError(ErrorCodes.ENTITLEMENT_FAILED, `RegisterUsage failed with ${name}.`, { awsException: name, cause: error });
        }
        this.d.logger.warn({ awsException: name, retryInMs: delay }, 'RegisterUsage failed; retrying');
        await sleep(delay, undefined, { ref: false, signal: this.stopped.signal }).catch(() => undefined);
        continue;
      }
      await verifyRegisterUsageSignature(output.Signature, options.publicKeyPem, {
        productCode: options.productCode,
        publicKeyVersion: options.publicKeyVersion,
        nonce,
      });
      const rotation = output.PublicKeyRotationTimestamp;
      if (rotation !== undefined) {
        this.d.logger.warn({ publicKeyVersion: options.publicKeyVersion }, 'AWS says this public key version has expired: plan the key rotation');
      }
      return {
        state: 'entitled',
        productCode: options.productCode,
        publicKeyVersion: options.publicKeyVersion,
        entitledAt: this.d.clock(),
        ...(rotation === undefined ? {} : { publicKeyRotationTimestamp: rotation.getTime() }),
      };
    }
  }
}
