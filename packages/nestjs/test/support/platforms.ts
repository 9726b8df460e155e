import type { INestApplication } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';

export interface Platform {
  readonly name: 'express' | 'fastify';
  create(moduleRef: TestingModule): INestApplication;
}

export const PLATFORMS: ReadonlyArray<[Platform['name'], Platform]> = [
  ['express', { name: 'express', create: (moduleRef) => moduleRef.createNestApplication(new ExpressAdapter(), { logger: false }) }],
  ['fastify', { name: 'fastify', create: (moduleRef) => moduleRef.createNestApplication(new FastifyAdapter(), { logger: false }) }],
];

/** Listens on a free port of 127.0.0.1 and answers the base URL. */
export async function listen(app: INestApplication): Promise<string> {
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return `http://127.0.0.1:${address.port}`;
}
