import type { Emulator } from '@meterkit/emulator';
import type { Metering } from '@meterkit/core';
import Fastify, { type FastifyInstance } from 'fastify';
import { meterkit } from '../src';
import { appWith, emulator, meteringFor } from './support/world';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('the registration route', () => {
  let emu: Emulator;
  let metering: Metering;
  let app: FastifyInstance;

  beforeEach(async () => {
    emu = await emulator();
    metering = meteringFor(emu);
  });
  afterEach(async () => {
    await app?.close();
    await metering.close().catch(() => undefined);
    await emu.close();
  });

  it('adds no content-type parser to the app\'s own routes', async () => {
    app = await appWith(metering, { registration: { path: '/register' } });
    app.post('/notes', async (request) => ({ body: request.body }));
    await app.ready();

    expect(app.hasContentTypeParser('application/x-www-form-urlencoded')).toBe(false);
    expect(app.hasContentTypeParser('application/json')).toBe(true);
    const form = await app.inject({ method: 'POST', url: '/notes', headers: FORM, payload: 'a=1' });
    expect(form.statusCode).toBe(415);
    expect(form.json().code).toBe('FST_ERR_CTP_INVALID_MEDIA_TYPE');
    const json = await app.inject({ method: 'POST', url: '/notes', payload: { a: 1 } });
    expect(json.json()).toEqual({ body: { a: 1 } });
  });

  it('refuses a registration path that is not a path', async () => {
    app = await appWith(metering, { manageLifecycle: false });
    const bad = Fastify();
    await expect(bad.register(meterkit, { metering, identify: () => undefined, registration: { path: 'register' } })).rejects.toMatchObject({ code: 'ERR_METERKIT_OPTIONS' });
    await bad.close();
  });
});
