/**
 * RegisterUsage signatures: a JWT with header {"alg":"PS256","typ":"JWT"} and payload
 * {ProductCode, PublicKeyVersion, Nonce, iat}, signed RSA-PSS SHA-256 (salt length 32) with node:crypto.
 * Key pairs are generated lazily, one per public key version.
 */
import { constants, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

export interface RegisterUsageClaims {
  ProductCode: string;
  PublicKeyVersion: number;
  Nonce?: string;
  iat: number;
}

interface KeyVersion {
  privateKey: KeyObject;
  publicKeyPem: string;
  /** When a newer version replaced it (ms epoch). */
  rotatedAt?: number;
}

const PSS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };

export class RegisterUsageKeys {
  private readonly versions = new Map<number, KeyVersion>();
  private latest = 0;

  constructor(private readonly now: () => number) {}

  private ensure(): void {
    if (this.latest === 0) this.rotate();
  }

  /** Adds a new key version and marks the previous one as rotated. Returns the new version. */
  rotate(): number {
    const prev = this.versions.get(this.latest);
    if (prev) prev.rotatedAt = this.now();
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.latest += 1;
    this.versions.set(this.latest, { privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() });
    return this.latest;
  }

  has(version: number): boolean {
    this.ensure();
    return this.versions.has(version);
  }

  latestVersion(): number {
    this.ensure();
    return this.latest;
  }

  rotatedAt(version: number): number | undefined {
    return this.versions.get(version)?.rotatedAt;
  }

  publicKeyPem(version?: number): string {
    this.ensure();
    const v = this.versions.get(version ?? this.latest);
    if (!v) throw new RangeError(`No public key version ${String(version)}`);
    return v.publicKeyPem;
  }

  sign(claims: RegisterUsageClaims): string {
    this.ensure();
    const v = this.versions.get(claims.PublicKeyVersion);
    if (!v) throw new RangeError(`No public key version ${claims.PublicKeyVersion}`);
    const header = b64json({ alg: 'PS256', typ: 'JWT' });
    const payload = b64json(claims);
    const input = `${header}.${payload}`;
    const sig = sign('sha256', Buffer.from(input), { key: v.privateKey, ...PSS });
    return `${input}.${sig.toString('base64url')}`;
  }
}

function b64json(o: unknown): string {
  return Buffer.from(JSON.stringify(o)).toString('base64url');
}

/** Verifies a RegisterUsage JWT against a PEM public key; returns the claims or throws. */
export function verifyRegisterUsageSignature(jwt: string, publicKeyPem: string): RegisterUsageClaims {
  const parts = jwt.split('.');
  if (parts.length !== 3) throw new Error('Not a JWT');
  const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString()) as { alg?: string; typ?: string };
  if (header.alg !== 'PS256') throw new Error(`Unexpected alg ${String(header.alg)}`);
  const ok = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key: createPublicKey(publicKeyPem), ...PSS }, Buffer.from(parts[2], 'base64url'));
  if (!ok) throw new Error('Bad signature');
  return JSON.parse(Buffer.from(parts[1], 'base64url').toString()) as RegisterUsageClaims;
}
