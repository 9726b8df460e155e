/** BatchMeterUsage: validation (whole call fails on any request-level error), windows, identity modes, dedup. */
import { AwsError } from '../rules/errors';
import {
  ACCOUNT_ID_RE,
  LICENSE_ARN_RE,
  MAX_INT,
  MAX_RECORDS,
  PRODUCT_CODE_RE,
  Violations,
  asObject,
  checkAllocations,
  optInteger,
  optList,
  optString,
  optTimestamp,
  parseAllocations,
  type UsageRecord,
} from '../rules/model-constraints';
import { checkBatchTimestamp, hourStart } from '../rules/windows';
import type { Buyer } from '../state/buyers';
import type { CallContext, EmulatorState, OperationResult } from '../state/emulator-state';
import { isUsable } from './subscription-status';

type Mode = 'license' | 'customer' | 'account';

interface Resolved {
  rec: UsageRecord;
  mode: Mode;
  buyer?: Buyer;
  t: number;
}

export function parseUsageRecords(raw: unknown[], v: Violations): UsageRecord[] {
  return raw.map((r, i) => {
    const p = `usageRecords.${i + 1}.member.`;
    const o = asObject(r, p);
    const allocRaw = optList(o, 'UsageAllocations', p);
    const rec: UsageRecord = {
      Timestamp: optTimestamp(o, 'Timestamp', p) as number,
      Dimension: optString(o, 'Dimension', p) as string,
    };
    const q = optInteger(o, 'Quantity', p);
    if (q !== undefined) rec.Quantity = q;
    const ci = optString(o, 'CustomerIdentifier', p);
    if (ci !== undefined) rec.CustomerIdentifier = ci;
    const acct = optString(o, 'CustomerAWSAccountId', p);
    if (acct !== undefined) rec.CustomerAWSAccountId = acct;
    const arn = optString(o, 'LicenseArn', p);
    if (arn !== undefined) rec.LicenseArn = arn;
    if (allocRaw) rec.UsageAllocations = parseAllocations(allocRaw, `${p}usageAllocations`);

    v.required(rec.Timestamp, `${p}timestamp`);
    v.required(rec.Dimension, `${p}dimension`);
    v.length(rec.Dimension, `${p}dimension`, 1, 255);
    v.range(rec.Quantity, `${p}quantity`, 0, MAX_INT);
    v.length(rec.CustomerIdentifier, `${p}customerIdentifier`, 0, 255);
    v.length(rec.CustomerAWSAccountId, `${p}customerAWSAccountId`, 1, 255);
    v.pattern(rec.CustomerAWSAccountId, `${p}customerAWSAccountId`, ACCOUNT_ID_RE);
    v.pattern(rec.LicenseArn, `${p}licenseArn`, LICENSE_ARN_RE);
    return rec;
  });
}

/**
 * Whom a record bills, for de-duplication. A legacy buyer is one customer whether a record names its
 * CustomerIdentifier or its account id (AWS is silent; docs/decisions.md): both resolve to the buyer's account.
 */
function dedupCustomer(r: Resolved, productCode: string): string {
  if (r.mode === 'license') return `L|${r.rec.LicenseArn}|${r.rec.CustomerAWSAccountId}`;
  return `A|${productCode}|${(r.buyer as Buyer).accountId}`;
}

export function batchMeterUsage(input: unknown, state: EmulatorState, ctx: CallContext): OperationResult {
  const o = asObject(input, '');
  const productCode = optString(o, 'ProductCode', '');
  const raw = optList(o, 'UsageRecords', '');
  const v = new Violations();
  v.required(raw, 'usageRecords');
  v.length(raw, 'usageRecords', 0, MAX_RECORDS);
  v.length(productCode, 'productCode', 0, 255);
  v.pattern(productCode, 'productCode', PRODUCT_CODE_RE);
  const records = parseUsageRecords((raw ?? []).slice(0, MAX_RECORDS + 1), v);
  v.throwIfAny();

  // Identity shape of each record.
  const modes: Mode[] = records.map((r, i) => {
    const where = `UsageRecords[${i}]`;
    if (r.CustomerIdentifier !== undefined && r.CustomerAWSAccountId !== undefined)
      throw new AwsError('ValidationException', `${where}: CustomerIdentifier and CustomerAWSAccountId are mutually exclusive`);
    if (r.LicenseArn !== undefined) {
      if (r.CustomerAWSAccountId === undefined) throw new AwsError('ValidationException', `${where}: LicenseArn requires CustomerAWSAccountId`);
      return 'license';
    }
    if (r.CustomerIdentifier !== undefined) return 'customer';
    if (r.CustomerAWSAccountId !== undefined) return 'account';
    throw new AwsError('ValidationException', `${where}: a record needs CustomerAWSAccountId + LicenseArn, CustomerIdentifier, or CustomerAWSAccountId`);
  });
  const hasLicense = modes.includes('license');
  const hasLegacy = modes.some((m) => m !== 'license');
  if (hasLicense && productCode !== undefined)
    throw new AwsError('ValidationException', 'ProductCode must be omitted when usage records carry LicenseArn');
  if (hasLegacy && productCode === undefined)
    throw new AwsError('InvalidProductCodeException', 'ProductCode is required for records identified by CustomerIdentifier or CustomerAWSAccountId without LicenseArn');

  // Resolve the product and the buyers.
  let product = productCode !== undefined ? state.products.get(productCode) : undefined;
  if (productCode !== undefined && !product) throw new AwsError('InvalidProductCodeException', `Product code ${productCode} is not a product of this seller`);
  const resolved: Resolved[] = records.map((rec, i) => {
    const t = rec.Timestamp * 1000;
    const mode = modes[i];
    if (mode === 'license') {
      const buyer = state.buyers.byLicense(rec.LicenseArn as string);
      if (!buyer) throw new AwsError('InvalidLicenseException', `License ${rec.LicenseArn} is not valid`);
      if (buyer.accountId !== rec.CustomerAWSAccountId)
        throw new AwsError('InvalidLicenseException', `License ${rec.LicenseArn} does not belong to customer account ${rec.CustomerAWSAccountId}`);
      if (state.enforceLicenseStart && hourStart(t) < hourStart(buyer.createdAt))
        throw new AwsError('InvalidLicenseException', `Usage at ${new Date(t).toISOString()} precedes the activation of license ${rec.LicenseArn}`);
      return { rec, mode, buyer, t };
    }
    const p = product as NonNullable<typeof product>;
    if (p.identity === 'license') {
      if (mode === 'customer')
        throw new AwsError('InvalidCustomerIdentifierException', `Product ${p.productCode} meters with CustomerAWSAccountId and LicenseArn; CustomerIdentifier is not accepted`);
      throw new AwsError('InvalidLicenseException', `Product ${p.productCode} meters with CustomerAWSAccountId and LicenseArn; LicenseArn is missing`);
    }
    if (mode === 'customer') {
      const buyer = state.buyers.byCustomerIdentifier(p.productCode, rec.CustomerIdentifier as string);
      if (!buyer) throw new AwsError('InvalidCustomerIdentifierException', `Customer identifier ${rec.CustomerIdentifier} is not valid`);
      return { rec, mode, buyer, t };
    }
    return { rec, mode, buyer: state.buyers.byAccount(p.productCode, rec.CustomerAWSAccountId as string), t };
  });
  if (hasLicense) {
    const codes = new Set(resolved.map((r) => r.buyer?.productCode));
    if (codes.size > 1) throw new AwsError('InvalidLicenseException', 'The licenses in one request must belong to one product');
    product = state.products.get([...codes][0] as string);
    if (!product) throw new AwsError('InvalidLicenseException', 'The license belongs to an unknown product');
  }

  if (resolved.length === 0) return { output: { Results: [], UnprocessedRecords: [] }, records: 0 };

  // Dimensions, allocations and tags, windows: any failure fails the whole call.
  for (const r of resolved) {
    if (!product?.dimensions.includes(r.rec.Dimension))
      throw new AwsError('InvalidUsageDimensionException', `Dimension ${r.rec.Dimension} is not a usage dimension of product ${product?.productCode}`);
  }
  for (const r of resolved) checkAllocations(r.rec.UsageAllocations, r.rec.Quantity ?? 0);
  for (const r of resolved) {
    const why = checkBatchTimestamp(r.t, ctx.now, state.windows);
    if (why)
      throw new AwsError('TimestampOutOfBoundsException', `Timestamp ${new Date(r.t).toISOString()} is ${why}: outside the accepted range for BatchMeterUsage`);
  }

  // Apply.
  const code = (product as NonNullable<typeof product>).productCode;
  const Results: unknown[] = [];
  const UnprocessedRecords: UsageRecord[] = [];
  for (const r of resolved) {
    if (state.faults.unprocessed()) {
      UnprocessedRecords.push(r.rec);
      continue;
    }
    if (!isUsable(r.buyer, r.t, ctx.now, state.finalUsageWindowMs)) {
      Results.push({ UsageRecord: r.rec, Status: 'CustomerNotSubscribed' });
      continue;
    }
    const quantity = r.rec.Quantity ?? 0;
    const hour = hourStart(r.t);
    const key = `${state.region}|${dedupCustomer(r, code)}|${r.rec.Dimension}|${new Date(hour).toISOString()}`;
    const outcome = state.ledger.applyBatchRecord(key, quantity, ctx.now, (id) => ({
      operation: 'BatchMeterUsage',
      region: state.region,
      productCode: code,
      ...(r.rec.LicenseArn !== undefined ? { licenseArn: r.rec.LicenseArn } : {}),
      ...(r.rec.CustomerAWSAccountId !== undefined ? { customerAWSAccountId: r.rec.CustomerAWSAccountId } : {}),
      ...(r.rec.CustomerIdentifier !== undefined ? { customerIdentifier: r.rec.CustomerIdentifier } : {}),
      dimension: r.rec.Dimension,
      hour,
      timestamp: r.t,
      quantity,
      ...(r.rec.UsageAllocations ? { allocations: r.rec.UsageAllocations } : {}),
      meteringRecordId: id,
      receivedAt: ctx.now,
    }));
    Results.push({ UsageRecord: r.rec, MeteringRecordId: outcome.meteringRecordId, Status: outcome.status });
  }
  return { output: { Results, UnprocessedRecords }, records: records.length };
}
