import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

/** Express `req` (an IncomingMessage) or `FastifyRequest` (holding it as `raw`), as Nest hands them over. */
export interface PlatformRequest {
  readonly headers: IncomingHttpHeaders;
  /** What the platform parsed (JSON object, text), if it read the body. */
  readonly body?: unknown;
  /** The exact bytes, when the app was created with `rawBody: true` and the platform parsed the body. */
  readonly rawBody?: Buffer;
  readonly raw?: IncomingMessage;
}

export type DeliveryBody = { readonly body: unknown } | { readonly tooLarge: true };

function incoming(request: PlatformRequest): IncomingMessage | undefined {
  const candidate = (request.raw ?? request) as Partial<IncomingMessage>;
  return typeof candidate.on === 'function' && typeof candidate.readableEnded === 'boolean' ? (candidate as IncomingMessage) : undefined;
}

/** Reads a body no parser took (e.g. SNS's text/plain on Express), stopping at `max` bytes. */
function readStream(stream: IncomingMessage, max: number): Promise<DeliveryBody> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) tooLarge = true;
      else chunks.push(chunk);
    });
    stream.once('end', () => resolve(tooLarge ? { tooLarge: true } : { body: Buffer.concat(chunks) }));
    stream.once('error', () => resolve({ body: Buffer.alloc(0) }));
  });
}

/**
 * The delivery's body, capped at `max` bytes, on either platform: the exact bytes when Nest kept them
 * (`rawBody: true`), else the request stream when no parser read it, else what the platform parsed (its size
 * judged by the declared length, or the parsed value's encoded size when the body came chunked).
 */
export async function readDeliveryBody(request: PlatformRequest, max: number): Promise<DeliveryBody> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) return { tooLarge: true };
  if (Buffer.isBuffer(request.rawBody)) return request.rawBody.length > max ? { tooLarge: true } : { body: request.rawBody };
  const stream = incoming(request);
  if (request.body === undefined && stream !== undefined && !stream.readableEnded) return readStream(stream, max);
  if (request.body === undefined || request.body === null) return { body: Buffer.alloc(0) };
  const size = typeof request.body === 'string' || Buffer.isBuffer(request.body) ? Buffer.byteLength(request.body) : Buffer.byteLength(JSON.stringify(request.body));
  return size > max ? { tooLarge: true } : { body: request.body };
}
