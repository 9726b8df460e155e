import 'reflect-metadata';
import { Controller, Get } from '@nestjs/common';
import { Metered } from '../src';
import { RouteDeclarationsCache } from '../src/meter-guard/route-declarations';

abstract class ItemsBase {
  @Get()
  list(): { ok: true } {
    return { ok: true };
  }
}

@Controller('a')
@Metered('api_calls', 2)
class ItemsAController extends ItemsBase {}

@Controller('b')
@Metered('api_calls', 3)
class ItemsBController extends ItemsBase {}

@Controller('c')
class ItemsCController extends ItemsBase {}

describe('RouteDeclarationsCache', () => {
  it('reads a route\'s declarations once, also for a handler inherited by several controllers: each request of the route gets the same object', () => {
    const cache = new RouteDeclarationsCache();
    const handler = ItemsBase.prototype.list;
    for (const controller of [ItemsAController, ItemsBController, ItemsCController, ItemsAController]) {
      expect(cache.of(controller, handler)).toBe(cache.of(controller, handler));
    }
    expect(cache.of(ItemsAController, handler)).toEqual({ usages: [{ dimension: 'api_calls', quantity: 2 }], requirements: [], binds: true });
    expect(cache.of(ItemsBController, handler)).toEqual({ usages: [{ dimension: 'api_calls', quantity: 3 }], requirements: [], binds: true });
    expect(cache.of(ItemsCController, handler)).toEqual({ usages: null, requirements: [], binds: false });
  });
});
