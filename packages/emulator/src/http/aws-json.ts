/** AWS JSON 1.1 on the wire: request body reading, target parsing, responses and errors. */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const CONTENT_TYPE = 'application/x-amz-json-1.1';
/** The Agreement API speaks AWS JSON 1.0. */
export const CONTENT_TYPE_1_0 = 'application/x-amz-json-1.0';
/** Bodies beyond this are not buffered (anything over 1 MB is refused anyway). */
export const BODY_BUFFER_CAP = 2 * 1024 * 1024;

export interface ReadBody {
  body: Buffer;
  bytes: number;
  truncated: boolean;
}

export function readBody(req: IncomingMessage): Promise<ReadBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let kept = 0;
    req.on('data', (c: Buffer) => {
      bytes += c.length;
      if (kept + c.length <= BODY_BUFFER_CAP) {
        chunks.push(c);
        kept += c.length;
      }
    });
    req.on('end', () => resolve({ body: Buffer.concat(chunks), bytes, truncated: bytes > kept }));
    req.on('error', reject);
  });
}

/** `AWSMPMeteringService.BatchMeterUsage` → service and operation. */
export function parseTarget(target: string | string[] | undefined): { service: string; operation: string } | undefined {
  if (typeof target !== 'string') return undefined;
  const dot = target.indexOf('.');
  if (dot < 1 || dot === target.length - 1) return undefined;
  return { service: target.slice(0, dot), operation: target.slice(dot + 1) };
}

/** Access key id and region from a SigV4 Authorization header, when present. */
export function credentialScope(auth: string | undefined): { accessKeyId?: string; region?: string } {
  const m = auth ? /Credential=([^/,\s]+)\/\d{8}\/([^/,\s]+)\//.exec(auth) : null;
  return m ? { accessKeyId: m[1], region: m[2] } : {};
}

export function writeJson(res: ServerResponse, status: number, body: unknown, contentType = CONTENT_TYPE, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
    ...extra,
  });
  res.end(text);
}

export function writeAwsError(res: ServerResponse, status: number, name: string, message: string, contentType = CONTENT_TYPE, fields: Record<string, unknown> = {}): void {
  writeJson(res, status, { __type: name, message, ...fields }, contentType, { 'x-amzn-errortype': name });
}
