import { request } from 'node:http';
import { startEmulator, type Emulator } from '../src';

const NOW = Date.UTC(2026, 6, 15, 12, 20);

function raw(emu: Emulator, opts: { method?: string; path?: string; target?: string; body?: string | Buffer; contentType?: string }) {
  return new Promise<{ status: number; headers: Record<string, unknown>; json: any; text: string }>((resolve, reject) => {
    const body = opts.body ?? '';
    const req = request(
      `${emu.endpoint}${opts.path ?? '/'}`,
      {
        method: opts.method ?? 'POST',
        agent: false,
        headers: {
          'content-type': opts.contentType ?? 'application/x-amz-json-1.1',
          ...(opts.target ? { 'x-amz-target': opts.target } : {}),
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json, text });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('AWS JSON 1.1 protocol edge cases', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({ now: NOW, products: [{ productCode: 'p', dimensions: ['d'] }] });
  });
  afterAll(() => emu.close());

  it('answers malformed JSON with 400 SerializationException', async () => {
    const r = await raw(emu, { target: 'AWSMPMeteringService.BatchMeterUsage', body: '{"UsageRecords": [' });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ __type: 'SerializationException', message: expect.any(String) });
    expect(r.headers['content-type']).toBe('application/x-amz-json-1.1');
  });

  it('answers wrong member types with SerializationException and missing members with ValidationException', async () => {
    const t = 'AWSMPMeteringService.BatchMeterUsage';
    expect((await raw(emu, { target: t, body: '{"UsageRecords": "x"}' })).json.__type).toBe('SerializationException');
    expect((await raw(emu, { target: t, body: '[1,2]' })).json.__type).toBe('SerializationException');
    expect((await raw(emu, { target: t, body: '{"UsageRecords": [{"Timestamp": "2026-07-15T11:00:00Z", "Dimension": "d"}]}' })).json.__type).toBe(
      'SerializationException',
    );
    expect((await raw(emu, { target: t, body: '{"UsageRecords": [{"Timestamp": 1, "Dimension": "d", "Quantity": 1.5}]}' })).json.__type).toBe(
      'SerializationException',
    );
    const missing = await raw(emu, { target: t, body: '{}' });
    expect(missing.status).toBe(400);
    expect(missing.json.__type).toBe('ValidationException');
    expect(missing.json.message).toMatch(/usageRecords.*must not be null/);
    expect((await raw(emu, { target: t, body: '{"UsageRecords": [{}]}' })).json.__type).toBe('ValidationException');
    expect((await raw(emu, { target: 'AWSMPMeteringService.MeterUsage', body: 'null' })).json.__type).toBe('SerializationException');
  });

  it('refuses requests of 1 MB or more', async () => {
    const big = JSON.stringify({ UsageRecords: [], pad: 'x'.repeat(1024 * 1024) });
    const r = await raw(emu, { target: 'AWSMPMeteringService.BatchMeterUsage', body: big });
    expect(r.status).toBe(400);
    expect(r.json.__type).toBe('ValidationException');
    expect(r.json.message).toMatch(/1 MB/);
    expect(emu.inspect.calls('BatchMeterUsage').at(-1)?.bytes).toBe(Buffer.byteLength(big));
  });

  it('answers unknown targets and routes with UnknownOperationException', async () => {
    expect((await raw(emu, { target: 'AWSMPMeteringService.GetEntitlements', body: '{}' })).json.__type).toBe('UnknownOperationException');
    expect((await raw(emu, { body: '{}' })).json.__type).toBe('UnknownOperationException');
    expect((await raw(emu, { method: 'GET', path: '/nope' })).status).toBe(404);
  });
});

describe('admin HTTP API', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({ now: NOW, products: [{ productCode: 'p', dimensions: ['d'] }] });
  });
  afterAll(() => emu.close());
  const admin = (method: string, path: string, body?: unknown) => raw(emu, { method, path: `/_emulator${path}`, body: body === undefined ? '' : JSON.stringify(body), contentType: 'application/json' });

  it('subscribes, meters and inspects over HTTP', async () => {
    expect((await admin('POST', '/products', { productCode: 'q', dimensions: ['x'] })).status).toBe(201);
    const sub = (await admin('POST', '/subscribe', { productCode: 'q' })).json;
    expect(sub.licenseArn).toMatch(/^arn:aws:license-manager/);
    const ts = Math.floor(Date.UTC(2026, 6, 15, 11) / 1000);
    const body = JSON.stringify({ UsageRecords: [{ Timestamp: ts, Dimension: 'x', Quantity: 3, CustomerAWSAccountId: sub.accountId, LicenseArn: sub.licenseArn }] });
    const r = await raw(emu, { target: 'AWSMPMeteringService.BatchMeterUsage', body });
    expect(r.json.Results[0].Status).toBe('Success');
    expect((await admin('GET', '/totals')).json).toEqual([expect.objectContaining({ licenseArn: sub.licenseArn, dimension: 'x', quantity: 3 })]);
    expect((await admin('GET', '/records')).json).toHaveLength(1);
    expect((await admin('GET', '/calls?operation=BatchMeterUsage')).json).toEqual([expect.objectContaining({ status: 200, records: 1 })]);
    const summary = (await admin('GET', '/summary')).json;
    expect(summary.operations.BatchMeterUsage).toEqual({ calls: 1, records: 1, errors: {} });
    expect((await admin('GET', '/buyers')).json.map((b: { licenseArn: string }) => b.licenseArn)).toContain(sub.licenseArn);
    const token = (await admin('POST', '/tokens', { id: sub.licenseArn })).json.token;
    expect(typeof token).toBe('string');
    expect((await admin('POST', '/cancel', { id: sub.agreementId })).json).toEqual({ ok: true });
    expect(emu.buyers().find((b) => b.licenseArn === sub.licenseArn)?.status).toBe('deprovisioned');
  });

  it('controls the clock and faults over HTTP', async () => {
    const set = await admin('POST', '/clock', { set: '2026-08-01T00:00:00Z' });
    expect(set.json.iso).toMatch(/^2026-08-01T00:00:0/);
    const adv = await admin('POST', '/clock', { advance: 3_600_000 });
    expect(adv.json.now).toBeGreaterThanOrEqual(Date.UTC(2026, 7, 1, 1));
    expect((await admin('POST', '/faults', { throttleRate: 0.25 })).json.throttleRate).toBe(0.25);
    expect((await admin('POST', '/faults', { throttleRate: 5 })).status).toBe(400);
    await admin('POST', '/faults/fail-next', { operation: 'ResolveCustomer', error: 'InternalServiceErrorException' });
    const r = await raw(emu, { target: 'AWSMPMeteringService.ResolveCustomer', body: '{"RegistrationToken":"x"}' });
    expect(r.status).toBe(500);
    expect((await admin('POST', '/faults/reset')).json.throttleRate).toBe(0);
    expect((await admin('GET', '/rejected')).json.at(-1)).toMatchObject({ operation: 'ResolveCustomer', error: 'InternalServiceErrorException' });
    expect((await admin('POST', '/reset')).json).toEqual({ ok: true });
    expect((await admin('GET', '/rejected')).json).toEqual([]);
    expect((await admin('GET', '/nope')).status).toBe(404);
    expect((await admin('POST', '/cancel', {})).status).toBe(400);
  });
});
