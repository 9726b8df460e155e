/**
 * Shape and constraint checks from the Smithy model (reference §2, §7).
 * Type mismatches answer SerializationException, model constraint violations ValidationException (as AWS's
 * front end does, with its "N validation errors detected" wording); tags and allocations answer the
 * modeled InvalidTagException / InvalidUsageAllocationsException.
 */
import { AwsError } from './errors';

export const MAX_RECORDS = 25;
export const MAX_REQUEST_BYTES = 1024 * 1024;
export const MAX_INT = 2147483647;
export const MAX_ALLOCATIONS = 2500;
export const MAX_TAGS = 5;

export const PRODUCT_CODE_RE = /^[-a-zA-Z0-9/=:_.@]*$/;
export const ACCOUNT_ID_RE = /^[0-9]+$/;
export const LICENSE_ARN_RE =
  /^arn:aws[a-zA-Z-]*:[A-Za-z0-9][A-Za-z0-9_/.-]{0,62}:[A-Za-z0-9_/.-]{0,63}:[A-Za-z0-9_/.-]{0,63}:[A-Za-z0-9][A-Za-z0-9:_/+=,@.-]{0,1023}$/;
/** Verbatim from the model: ` -=` is an ASCII range (space to '='). */
export const TAG_RE = /^[a-zA-Z0-9+ -=._:\/@]+$/;

export interface Tag {
  Key: string;
  Value: string;
}
export interface UsageAllocation {
  AllocatedUsageQuantity: number;
  Tags?: Tag[];
}
export interface UsageRecord {
  Timestamp: number; // epoch seconds as sent
  CustomerIdentifier?: string;
  Dimension: string;
  Quantity?: number;
  UsageAllocations?: UsageAllocation[];
  CustomerAWSAccountId?: string;
  LicenseArn?: string;
}

/** Collects ValidationException messages the way AWS words them. */
export class Violations {
  private readonly items: string[] = [];
  add(value: unknown, path: string, constraint: string): void {
    const shown = typeof value === 'string' && value.length > 64 ? `${value.slice(0, 64)}...` : String(value);
    this.items.push(`Value '${shown}' at '${path}' failed to satisfy constraint: ${constraint}`);
  }
  length(value: string | unknown[] | undefined, path: string, min: number, max?: number): void {
    if (value === undefined) return;
    if (value.length < min) this.add(Array.isArray(value) ? `[${value.length} items]` : value, path, `Member must have length greater than or equal to ${min}`);
    if (max !== undefined && value.length > max)
      this.add(Array.isArray(value) ? `[${value.length} items]` : value, path, `Member must have length less than or equal to ${max}`);
  }
  pattern(value: string | undefined, path: string, re: RegExp): void {
    if (value !== undefined && !re.test(value)) this.add(value, path, `Member must satisfy regular expression pattern: ${re.source}`);
  }
  range(value: number | undefined, path: string, min: number, max?: number): void {
    if (value === undefined) return;
    if (value < min) this.add(value, path, `Member must have value greater than or equal to ${min}`);
    if (max !== undefined && value > max) this.add(value, path, `Member must have value less than or equal to ${max}`);
  }
  required(value: unknown, path: string): void {
    if (value === undefined || value === null) this.add('null', path, 'Member must not be null');
  }
  throwIfAny(): void {
    if (this.items.length === 0) return;
    const n = this.items.length;
    throw new AwsError('ValidationException', `${n} validation error${n > 1 ? 's' : ''} detected: ${this.items.join('; ')}`);
  }
}

// ---- type guards (SerializationException) ----

function serialization(path: string, expected: string): never {
  throw new AwsError('SerializationException', `Expected ${expected} at '${path}'`);
}

export function asObject(v: unknown, path: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) serialization(path, 'a JSON object');
  return v as Record<string, unknown>;
}
export function optString(o: Record<string, unknown>, k: string, path: string): string | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') serialization(`${path}${k}`, 'a string');
  return v;
}
export function optInteger(o: Record<string, unknown>, k: string, path: string): number | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) serialization(`${path}${k}`, 'an integer');
  return v;
}
export function optBoolean(o: Record<string, unknown>, k: string, path: string): boolean | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') serialization(`${path}${k}`, 'a boolean');
  return v;
}
export function optList(o: Record<string, unknown>, k: string, path: string): unknown[] | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) serialization(`${path}${k}`, 'a JSON list');
  return v;
}
/** AWS JSON 1.1 timestamps are epoch seconds (a JSON number). */
export function optTimestamp(o: Record<string, unknown>, k: string, path: string): number | undefined {
  const v = o[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) serialization(`${path}${k}`, 'a timestamp in epoch seconds');
  return v;
}

// ---- allocations and tags ----

export function parseAllocations(raw: unknown[], path: string): UsageAllocation[] {
  return raw.map((a, i) => {
    const p = `${path}.${i + 1}.member.`;
    const o = asObject(a, p);
    const q = optInteger(o, 'AllocatedUsageQuantity', p);
    const tagsRaw = optList(o, 'Tags', p);
    const tags = tagsRaw?.map((t, j) => {
      const tp = `${p}tags.${j + 1}.member.`;
      const to = asObject(t, tp);
      return { Key: optString(to, 'Key', tp) as string, Value: optString(to, 'Value', tp) as string };
    });
    return { AllocatedUsageQuantity: q as number, ...(tags ? { Tags: tags } : {}) };
  });
}

/** Allocation rules: 1..2500 entries, quantities 0..2^31-1, sum = record quantity, unique tag sets, valid tags. */
export function checkAllocations(allocs: UsageAllocation[] | undefined, quantity: number): void {
  if (allocs === undefined) return;
  if (allocs.length < 1 || allocs.length > MAX_ALLOCATIONS)
    throw new AwsError('InvalidUsageAllocationsException', `UsageAllocations must hold 1 to ${MAX_ALLOCATIONS} allocations, got ${allocs.length}`);
  let sum = 0;
  const seen = new Set<string>();
  const keys = new Set<string>();
  for (const a of allocs) {
    const q = a.AllocatedUsageQuantity;
    if (q === undefined || q === null || q < 0 || q > MAX_INT)
      throw new AwsError('InvalidUsageAllocationsException', `AllocatedUsageQuantity must be an integer from 0 to ${MAX_INT}`);
    sum += q;
    checkTags(a.Tags);
    for (const t of a.Tags ?? []) keys.add(t.Key);
    const sig = tagSetSignature(a.Tags);
    if (seen.has(sig)) throw new AwsError('InvalidUsageAllocationsException', 'Each allocation must have a unique set of tags');
    seen.add(sig);
  }
  if (keys.size > MAX_TAGS) throw new AwsError('InvalidTagException', `A record may use at most ${MAX_TAGS} distinct tag keys across its allocations`);
  if (sum !== quantity)
    throw new AwsError('InvalidUsageAllocationsException', `The sum of AllocatedUsageQuantity (${sum}) must equal the usage quantity (${quantity})`);
}

function checkTags(tags: Tag[] | undefined): void {
  if (tags === undefined) return;
  if (tags.length < 1 || tags.length > MAX_TAGS) throw new AwsError('InvalidTagException', `An allocation must carry 1 to ${MAX_TAGS} tags, got ${tags.length}`);
  const keys = new Set<string>();
  for (const t of tags) {
    if (typeof t.Key !== 'string' || t.Key.length < 1 || t.Key.length > 100 || !TAG_RE.test(t.Key))
      throw new AwsError('InvalidTagException', `Invalid tag key '${String(t.Key)}': 1 to 100 characters matching ${TAG_RE.source}`);
    if (typeof t.Value !== 'string' || t.Value.length < 1 || t.Value.length > 256 || !TAG_RE.test(t.Value))
      throw new AwsError('InvalidTagException', `Invalid tag value '${String(t.Value)}': 1 to 256 characters matching ${TAG_RE.source}`);
    if (keys.has(t.Key)) throw new AwsError('InvalidTagException', `Duplicate tag key '${t.Key}' in one allocation`);
    keys.add(t.Key);
  }
}

export function tagSetSignature(tags: Tag[] | undefined): string {
  if (!tags) return '';
  return tags
    .map((t) => `${t.Key}\u0000${t.Value}`)
    .sort()
    .join('\u0001');
}

/** Order-independent signature of a record's allocations (for idempotency comparisons). */
export function allocationsSignature(allocs: UsageAllocation[] | undefined): string {
  if (!allocs) return '';
  return allocs
    .map((a) => `${tagSetSignature(a.Tags)}=${a.AllocatedUsageQuantity}`)
    .sort()
    .join('|');
}
