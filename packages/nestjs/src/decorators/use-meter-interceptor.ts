import { UseInterceptors } from '@nestjs/common';
import { INTERCEPTORS_METADATA } from '@nestjs/common/constants';
import { MeterInterceptor } from '../meter.interceptor';

/**
 * Puts MeterInterceptor on a controller (`key` undefined) or on its handler `key`, once: the route binds its meter
 * (after every guard) and records its `@Metered()` usage. Routes that declare nothing are left alone.
 */
export function useMeterInterceptor(target: object, key?: string | symbol): void {
  if (key === undefined) {
    const declared: unknown[] = Reflect.getOwnMetadata(INTERCEPTORS_METADATA, target) ?? [];
    if (!declared.includes(MeterInterceptor)) UseInterceptors(MeterInterceptor)(target as (...args: unknown[]) => unknown);
    return;
  }
  const descriptor = Object.getOwnPropertyDescriptor(target, key);
  if (typeof descriptor?.value !== 'function') return;
  const declared: unknown[] = Reflect.getOwnMetadata(INTERCEPTORS_METADATA, descriptor.value) ?? [];
  if (!declared.includes(MeterInterceptor)) UseInterceptors(MeterInterceptor)(target, key, descriptor);
}
