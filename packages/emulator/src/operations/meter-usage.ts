/** MeterUsage: 6-hour window, idempotent per (caller, product, dimension, hour) and per ClientToken. */
import { randomUUID } from 'node:crypto';
import { AwsError } from '../rules/errors';
import {
  MAX_INT,
  PRODUCT_CODE_RE,
  Violations,
  allocationsSignature,
  asObject,
  checkAllocations,
  optBoolean,
  optInteger,
  optList,
  optString,
  optTimestamp,
  parseAllocations,
} from '../rules/model-constraints';
import { checkMeterUsageTimestamp, hourStart } from '../rules/windows';
import type { CallContext, EmulatorState, OperationResult } from '../state/emulator-state';

export function meterUsage(input: unknown, state: EmulatorState, ctx: CallContext): OperationResult {
  const o = asObject(input, '');
  const productCode = optString(o, 'ProductCode', '');
  const ts = optTimestamp(o, 'Timestamp', '');
  const dimension = optString(o, 'UsageDimension', '');
  const quantity = optInteger(o, 'UsageQuantity', '') ?? 0;
  const dryRun = optBoolean(o, 'DryRun', '') ?? false;
  const allocRaw = optList(o, 'UsageAllocations', '');
  const allocations = allocRaw ? parseAllocations(allocRaw, 'usageAllocations') : undefined;
  const clientToken = optString(o, 'ClientToken', '');

  const v = new Violations();
  v.required(productCode, 'productCode');
  v.length(productCode, 'productCode', 0, 255);
  v.pattern(productCode, 'productCode', PRODUCT_CODE_RE);
  v.required(ts, 'timestamp');
  v.required(dimension, 'usageDimension');
  v.length(dimension, 'usageDimension', 1, 255);
  v.range(quantity, 'usageQuantity', 0, MAX_INT);
  v.length(clientToken, 'clientToken', 1, 64);
  v.throwIfAny();

  if (ctx.signedRegion && ctx.signedRegion !== state.region)
    throw new AwsError('InvalidEndpointRegionException', `The request was signed for ${ctx.signedRegion} but sent to the ${state.region} endpoint`);
  const product = state.products.get(productCode as string);
  if (!product) throw new AwsError('InvalidProductCodeException', `Product code ${productCode} is not valid`);
  if (!product.dimensions.includes(dimension as string))
    throw new AwsError('InvalidUsageDimensionException', `Dimension ${dimension} is not a usage dimension of product ${productCode}`);
  checkAllocations(allocations, quantity);
  const t = (ts as number) * 1000;
  const why = checkMeterUsageTimestamp(t, ctx.now, state.windows);
  if (why) throw new AwsError('TimestampOutOfBoundsException', `Timestamp ${new Date(t).toISOString()} is ${why}: outside the accepted range for MeterUsage`);
  if (dryRun) throw new AwsError('DryRunOperation', 'Request would have succeeded, but the DryRun flag is set.');

  const caller = ctx.accessKeyId ?? 'anonymous';
  const hour = hourStart(t);
  const hourKey = `${state.region}|${caller}|${productCode}|${dimension}|${new Date(hour).toISOString()}`;
  const allocSig = allocationsSignature(allocations);
  const paramsSig = JSON.stringify([productCode, ts, dimension, quantity, allocSig]);
  const prior = state.ledger.meterUsagePrior(clientToken, hourKey);
  if (prior.byToken) {
    if (prior.byToken.paramsSig !== paramsSig)
      throw new AwsError('IdempotencyConflictException', `ClientToken ${clientToken} was already used with different parameters`);
    return { output: { MeteringRecordId: prior.byToken.meteringRecordId }, records: 1 };
  }
  // Identical after the hour truncation, allocations aside (AWS: DuplicateRequestException means another quantity).
  if (prior.byHour) {
    if (prior.byHour.quantity !== quantity) {
      state.ledger.noteMeterUsageDuplicate(hourKey, prior.byHour.quantity, quantity, ctx.now);
      throw new AwsError('DuplicateRequestException', `Usage for ${dimension} in the hour ${new Date(hour).toISOString()} was already metered with a different quantity`);
    }
    state.ledger.recordMeterUsage(clientToken, hourKey, { ...prior.byHour, paramsSig });
    return { output: { MeteringRecordId: prior.byHour.meteringRecordId }, records: 1 };
  }
  const id = randomUUID();
  state.ledger.recordMeterUsage(
    clientToken,
    hourKey,
    { paramsSig, meteringRecordId: id, quantity },
    {
      operation: 'MeterUsage',
      region: state.region,
      productCode: productCode as string,
      dimension: dimension as string,
      hour,
      timestamp: t,
      quantity,
      ...(allocations ? { allocations } : {}),
      meteringRecordId: id,
      receivedAt: ctx.now,
    },
  );
  return { output: { MeteringRecordId: id }, records: 1 };
}
