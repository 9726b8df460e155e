/** HTTP routing: AWS JSON 1.1 API on POST /, admin and inspection under /_emulator. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { AwsError } from '../rules/errors';
import { MAX_REQUEST_BYTES } from '../rules/model-constraints';
import type { EmulatorState, Operation } from '../state/emulator-state';
import { batchMeterUsage } from '../operations/batch-meter-usage';
import { meterUsage } from '../operations/meter-usage';
import { resolveCustomer } from '../operations/resolve-customer';
import { registerUsage } from '../operations/register-usage';
import { credentialScope, operationFromTarget, readBody, writeAwsError, writeJson } from './aws-json';

export const OPERATIONS: Record<string, Operation> = {
  BatchMeterUsage: batchMeterUsage,
  MeterUsage: meterUsage,
  ResolveCustomer: resolveCustomer,
  RegisterUsage: registerUsage,
};

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
    const op = operationFromTarget(req.headers['x-amz-target']);
    const at = state.clock.now();
    const fail = (e: AwsError, records?: number) => {
      state.ledger.call({ operation: op ?? 'unknown', at, ...(records !== undefined ? { records } : {}), status: e.status, error: e.errorName, bytes });
      state.ledger.reject({ operation: op ?? 'unknown', error: e.errorName, message: e.message, at });
      log(`${op ?? 'unknown'} ${e.status} ${e.errorName}: ${e.message}`);
      writeAwsError(res, e.status, e.errorName, e.message);
    };
    if (!op || !OPERATIONS[op]) {
      fail(new AwsError('UnknownOperationException', `Unknown operation ${String(req.headers['x-amz-target'])}`));
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
    if (bytes >= MAX_REQUEST_BYTES || truncated)
      return fail(new AwsError('ValidationException', `Request size ${bytes} bytes exceeds the limit: requests must be smaller than 1 MB`));
    let input: unknown;
    try {
      const text = body.toString('utf8').trim();
      input = text === '' ? {} : JSON.parse(text);
    } catch {
      return fail(new AwsError('SerializationException', 'The request body is not valid JSON'));
    }
    const scope = credentialScope(req.headers.authorization);
    let result;
    try {
      result = OPERATIONS[op](input, state, { now: at, signedRegion: scope.region, accessKeyId: scope.accessKeyId });
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
      else writeAwsError(res, 500, 'InternalServiceErrorException', 'An internal error occurred');
      return;
    }
    state.ledger.call({ operation: op, at, ...(result.records !== undefined ? { records: result.records } : {}), status: 200, bytes });
    log(`${op} 200${result.records !== undefined ? ` (${result.records} records)` : ''}`);
    writeJson(res, 200, result.output);
  }

  return server;
}
