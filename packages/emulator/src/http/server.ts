/**
 * HTTP routing: the AWS APIs on POST / by X-Amz-Target (Metering Service and Entitlement Service in AWS JSON 1.1,
 * the Agreement API subset in AWS JSON 1.0), admin and inspection under /_emulator.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { getEntitlements } from '../operations/get-entitlements';
import { describeAgreement } from '../operations/agreement/describe-agreement';
import { getAgreementEntitlements } from '../operations/agreement/get-agreement-entitlements';
import { getAgreementTerms } from '../operations/agreement/get-agreement-terms';
import { searchAgreements } from '../operations/agreement/search-agreements';
import { AGREEMENT_ERROR_STATUS, AwsError } from '../rules/errors';
import { MAX_REQUEST_BYTES } from '../rules/model-constraints';
import type { EmulatorState, Operation } from '../state/emulator-state';
import { batchMeterUsage } from '../operations/batch-meter-usage';
import { meterUsage } from '../operations/meter-usage';
import { resolveCustomer } from '../operations/resolve-customer';
import { registerUsage } from '../operations/register-usage';
import { CONTENT_TYPE, CONTENT_TYPE_1_0, credentialScope, parseTarget, readBody, writeAwsError, writeJson } from './aws-json';

export interface Service {
  contentType: string;
  operations: Record<string, Operation>;
  /** Served only to requests signed for us-east-1; any other region finds no endpoint (the connection is dropped). */
  usEast1Only: boolean;
  /** How the service names an injected server error or throttle, and with which status. */
  adapt: (e: AwsError) => AwsError;
}

const asIs = (e: AwsError) => e;

/** Agreement API: its own server-error name, and the statuses its model gives. */
function agreementError(e: AwsError): AwsError {
  const name = e.errorName === 'InternalServiceErrorException' ? 'InternalServerException' : e.errorName;
  const status = AGREEMENT_ERROR_STATUS[name];
  return status === undefined || (name === e.errorName && status === e.status) ? e : new AwsError(name, e.message, status, e.fields);
}

export const SERVICES: Record<string, Service> = {
  AWSMPMeteringService: {
    contentType: CONTENT_TYPE,
    operations: { BatchMeterUsage: batchMeterUsage, MeterUsage: meterUsage, ResolveCustomer: resolveCustomer, RegisterUsage: registerUsage },
    usEast1Only: false,
    adapt: asIs,
  },
  AWSMPEntitlementService: { contentType: CONTENT_TYPE, operations: { GetEntitlements: getEntitlements }, usEast1Only: true, adapt: asIs },
  AWSMPCommerceService_v20200301: {
    contentType: CONTENT_TYPE_1_0,
    operations: {
      DescribeAgreement: describeAgreement,
      GetAgreementTerms: getAgreementTerms,
      GetAgreementEntitlements: getAgreementEntitlements,
      SearchAgreements: searchAgreements,
    },
    usEast1Only: true,
    adapt: agreementError,
  },
};

/** The only region the Entitlement Service and the Agreement API answer in. */
export const CONTRACTS_REGION = 'us-east-1';

/** MeterUsage does not list DisabledApiException in the model. */
const CAN_BE_DISABLED = new Set(['BatchMeterUsage', 'ResolveCustomer', 'RegisterUsage']);

export const ADMIN_PREFIX = '/_emulator';

export type AdminHandler = (req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer) => Promise<void>;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function createEmulatorServer(state: EmulatorState, admin: AdminHandler, log: (line: string) => void): Server {
  const server = createServer((req, res) => {
    handle(req, res).catch((e: Error) => {
      log(`internal error: ${e.stack ?? e.message}`);
      if (!res.headersSent) writeAwsError(res, 500, 'InternalServiceErrorException', 'Internal emulator error');
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { body, bytes, truncated } = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://emulator.local');
    if (url.pathname === ADMIN_PREFIX || url.pathname.startsWith(`${ADMIN_PREFIX}/`)) return admin(req, res, url, body);
    if (req.method !== 'POST' || url.pathname !== '/') {
      writeAwsError(res, 404, 'UnknownOperationException', `No route for ${req.method} ${url.pathname}`);
      return;
    }
    const target = parseTarget(req.headers['x-amz-target']);
    const service = target ? SERVICES[target.service] : undefined;
    const op = service?.operations[(target as { operation: string }).operation] ? (target as { operation: string }).operation : undefined;
    const at = state.clock.now();
    const fail = (raw: AwsError, records?: number) => {
      const e = service ? service.adapt(raw) : raw;
      state.ledger.call({ operation: op ?? 'unknown', at, ...(records !== undefined ? { records } : {}), status: e.status, error: e.errorName, bytes });
      state.ledger.reject({ operation: op ?? 'unknown', error: e.errorName, message: e.message, at });
      log(`${op ?? 'unknown'} ${e.status} ${e.errorName}: ${e.message}`);
      writeAwsError(res, e.status, e.errorName, e.message, service?.contentType ?? CONTENT_TYPE, e.fields);
    };
    if (!service || !op) {
      fail(new AwsError('UnknownOperationException', `Unknown operation ${String(req.headers['x-amz-target'])}`));
      return;
    }
    const scope = credentialScope(req.headers.authorization);
    if (service.usEast1Only && scope.region !== CONTRACTS_REGION) {
      state.ledger.call({ operation: op, at, status: 0, error: 'region-refused', bytes });
      log(`${op} refused: signed for ${scope.region ?? 'no region'}, served only in ${CONTRACTS_REGION} (connection dropped)`);
      req.socket.destroy();
      return;
    }
    const latency = state.faults.latencyMs();
    if (latency > 0) await sleep(latency);
    const fault = state.faults.before(op);
    if (fault?.kind === 'error') return fail(fault.error);
    if (fault?.kind === 'reset') {
      state.ledger.call({ operation: op, at, status: 0, error: 'reset', bytes });
      log(`${op} connection reset (fault)`);
      req.socket.destroy();
      return;
    }
    if (state.disabledOperations.has(op) && CAN_BE_DISABLED.has(op)) return fail(new AwsError('DisabledApiException', `${op} is disabled in ${state.region}`));
    if (op === 'GetEntitlements' && !state.entitlementLimiter.take(at, state.entitlementSettings.throttlePerSecond))
      return fail(new AwsError('ThrottlingException', `Rate exceeded: more than ${state.entitlementSettings.throttlePerSecond} GetEntitlements calls per second`));
    if (bytes >= MAX_REQUEST_BYTES || truncated)
      return fail(new AwsError('ValidationException', `Request size ${bytes} bytes exceeds the limit: requests must be smaller than 1 MB`));
    let input: unknown;
    try {
      const text = body.toString('utf8').trim();
      input = text === '' ? {} : JSON.parse(text);
    } catch {
      return fail(new AwsError('SerializationException', 'The request body is not valid JSON'));
    }
    let result;
    try {
      result = service.operations[op](input, state, { now: at, signedRegion: scope.region, accessKeyId: scope.accessKeyId });
    } catch (e) {
      if (e instanceof AwsError) {
        const raw = (input as { UsageRecords?: unknown })?.UsageRecords;
        return fail(e, op === 'BatchMeterUsage' && Array.isArray(raw) ? raw.length : undefined);
      }
      throw e;
    }
    if (fault?.kind === 'lost-answer') {
      state.ledger.call({ operation: op, at, ...(result.records !== undefined ? { records: result.records } : {}), status: fault.how === 'reset' ? 0 : 500, error: `lost-answer${fault.how === 'reset' ? '-reset' : ''}`, bytes });
      log(`${op} applied, answer lost (${fault.how})`);
      if (fault.how === 'reset') req.socket.destroy();
      else {
        const e = service.adapt(new AwsError('InternalServiceErrorException', 'An internal error occurred'));
        writeAwsError(res, e.status, e.errorName, e.message, service.contentType);
      }
      return;
    }
    state.ledger.call({ operation: op, at, ...(result.records !== undefined ? { records: result.records } : {}), status: 200, bytes });
    log(`${op} 200${result.records !== undefined ? ` (${result.records} records)` : ''}`);
    writeJson(res, 200, result.output, service.contentType);
  }

  return server;
}
