import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import request from 'supertest';
import { startEmulator, type Emulator } from '@meterkit/emulator';
import { silentLogger } from '@meterkit/core';
import { MeteringService } from '@meterkit/nestjs';
import { AppModule } from '../src/app.module';
import { DIMENSIONS, SAMPLE_PRODUCT } from '../src/config/sample-config';

const PLATFORMS = [
  ['express', () => new ExpressAdapter()],
  ['fastify', () => new FastifyAdapter()],
] as const;

describe.each(PLATFORMS)('nestjs-sample on %s', (_name, adapter) => {
  let emu: Emulator;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    emu = await startEmulator({ now: Date.parse('2026-07-15T10:20:00Z'), products: [{ productCode: SAMPLE_PRODUCT, dimensions: DIMENSIONS }] });
    const moduleRef = await Test.createTestingModule({
      imports: [
        AppModule.register({
          metering: {
            products: [{ productCode: SAMPLE_PRODUCT, dimensions: DIMENSIONS }],
            store: 'memory',
            aws: { region: 'us-east-1', endpoint: emu.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
            clock: () => emu.clock.now(),
            logger: silentLogger,
            autoStart: false,
          },
        }),
      ],
    }).compile();
    app = moduleRef.createNestApplication(adapter(), { logger: false });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });

  afterAll(async () => {
    await app?.close();
    await emu?.close();
  });

  /** AWS Marketplace posts the buyer to the registration URL; the buyer follows the redirect to the welcome page once. */
  async function signUp(): Promise<{ apiKey: string; licenseArn: string }> {
    const subscription = await emu.subscribe({ productCode: SAMPLE_PRODUCT, registrationUrl: `${url}/marketplace/register` });
    expect(subscription.registration).toMatchObject({ status: 303, location: expect.stringMatching(/^\/welcome\?ref=/) });
    const welcome = await request(url).get(subscription.registration!.location!);
    expect(welcome.status).toBe(200);
    expect(welcome.headers['cache-control']).toBe('no-store');
    const again = await request(url).get(subscription.registration!.location!);
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('WELCOME_NOT_FOUND');
    return { apiKey: welcome.body.apiKey, licenseArn: subscription.licenseArn! };
  }

  it('signs a buyer up from AWS Marketplace and bills their API calls and processed gigabytes', async () => {
    const { apiKey, licenseArn } = await signUp();
    const other = await signUp();

    expect((await request(url).get('/v1/reports').set('authorization', `Bearer ${apiKey}`)).status).toBe(200);
    expect((await request(url).get('/v1/reports').set('x-api-key', apiKey)).status).toBe(200);
    const processed = await request(url)
      .post('/v1/process')
      .set('x-api-key', apiKey)
      .send({ files: [{ name: 'a.csv', sizeBytes: 1_500_000_000 }, { name: 'b.csv', sizeBytes: 200 }] });
    expect(processed.status).toBe(200);
    expect(processed.body).toEqual({ files: 2, gbProcessed: 2 });
    expect((await request(url).get('/v1/reports').set('x-api-key', other.apiKey)).status).toBe(200);

    expect((await request(url).get('/v1/reports')).status).toBe(401);
    const bad = await request(url).post('/v1/process').set('x-api-key', apiKey).send({ files: [{ name: '', sizeBytes: -1 }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('INVALID_BODY');

    emu.clock.advance(75 * 60_000);
    await app.get(MeteringService).flush();

    // 2 reports and 1 process: the refused 400 bills nothing (only answers below 400 are billed). The 401 never reached metering.
    expect(emu.inspect.totalFor({ licenseArn, dimension: 'api_calls' })).toBe(3);
    expect(emu.inspect.totalFor({ licenseArn, dimension: 'gb_processed' })).toBe(2);
    expect(emu.inspect.totalFor({ licenseArn: other.licenseArn, dimension: 'api_calls' })).toBe(1);
  });

  it('answers a forged registration with 400 and an unknown welcome reference with 404', async () => {
    const forged = await request(url).post('/marketplace/register').type('form').send({ 'x-amzn-marketplace-token': 'forged' });
    expect(forged.status).toBe(400);
    expect(forged.body.error.code).toMatch(/^ERR_METERKIT_TOKEN_/);
    expect((await request(url).get('/welcome?ref=nope')).status).toBe(404);
    expect((await request(url).get('/welcome')).status).toBe(400);
  });
});
