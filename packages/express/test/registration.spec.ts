import { ErrorCodes } from '@meterkit/core';
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { type MeterkitOptions } from '../src';
import { listen, REGISTER_PATH, startWorld, type World } from './support/world';

const FORM = 'application/x-www-form-urlencoded';

describe('the registration route', () => {
  let world: World;
  let server: Awaited<ReturnType<typeof listen>> | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await world.close();
  });

  async function start(registration: Partial<NonNullable<MeterkitOptions['registration']>> = {}): Promise<World> {
    world = await startWorld({ registration: { path: REGISTER_PATH, rateLimitPerMinute: 0, ...registration } }, (app, mk) => {
      app.get('/reports', mk.count('api_calls'), (req, res) => {
        res.json({ metered: req.meter !== null });
      });
    });
    return world;
  }

  it('answers 413 for a body over the cap, 415 for another content type or charset, 400 for a malformed body: never 500', async () => {
    await start({ maxBodyBytes: 1024 });
    const agent = request(world.app);
    const post = () => agent.post(REGISTER_PATH);
    const code = (res: request.Response) => [res.status, res.body.error?.code];

    expect(code(await post().type('form').send(`x-amzn-marketplace-token=${'a'.repeat(2000)}`))).toEqual([413, ErrorCodes.TOKEN_MALFORMED]);
    expect(code(await post().set('content-type', 'application/json').send('{"x-amzn-marketplace-token":"abc"}'))).toEqual([415, ErrorCodes.TOKEN_MALFORMED]);
    expect(code(await post().set('content-type', 'text/plain').send('x-amzn-marketplace-token=abc'))).toEqual([415, ErrorCodes.TOKEN_MALFORMED]);
    expect(code(await post().set('content-type', `${FORM}; charset=utf-16`).send('x-amzn-marketplace-token=abc'))).toEqual([415, ErrorCodes.TOKEN_MALFORMED]);
    expect(code(await post().set('content-type', FORM).set('content-encoding', 'br-nope').send('x'))).toEqual([415, ErrorCodes.TOKEN_MALFORMED]);
    expect(code(await post().set('content-type', FORM).set('content-encoding', 'gzip').send(gzipSync('x-amzn-marketplace-token=abc')))).toEqual([
      415,
      ErrorCodes.TOKEN_MALFORMED,
    ]);
    expect(code(await post().set('content-type', FORM).send('%%%=%E0%A4%A&&=&x-amzn-marketplace-token'))).toEqual([400, ErrorCodes.TOKEN_MALFORMED]);
    expect(code(await post().set('content-type', FORM).send(Array.from({ length: 50 }, (_, i) => `f${i}=1`).join('&')))).toEqual([
      413,
      ErrorCodes.TOKEN_MALFORMED,
    ]);
    // Not the registration route's method: the app's own routing answers.
    await agent.get(REGISTER_PATH).expect(404);
  });

});
