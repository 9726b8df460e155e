import { UseGuards } from '@nestjs/common';
import { GUARDS_METADATA } from '@nestjs/common/constants';
import { MeterGuard } from '../meter-guard/meter.guard';
import { METER_GUARD_METADATA } from '../metering.constants';

/**
 * Puts MeterGuard on a controller (`key` undefined) or on its handler `key`, once, and marks it as declaring
 * metering: MeteringModule then makes the guard the last of each of its routes (MeterGuardPlacement). Routes that
 * declare nothing are left alone.
 */
export function useMeterGuard(target: object, key?: string | symbol): void {
  if (key === undefined) {
    Reflect.defineMetadata(METER_GUARD_METADATA, true, target);
    const declared: unknown[] = Reflect.getOwnMetadata(GUARDS_METADATA, target) ?? [];
    if (!declared.includes(MeterGuard)) UseGuards(MeterGuard)(target as (...args: unknown[]) => unknown);
    return;
  }
  const descriptor = Object.getOwnPropertyDescriptor(target, key);
  if (typeof descriptor?.value !== 'function') return;
  Reflect.defineMetadata(METER_GUARD_METADATA, true, descriptor.value as object);
  const declared: unknown[] = Reflect.getOwnMetadata(GUARDS_METADATA, descriptor.value) ?? [];
  if (!declared.includes(MeterGuard)) UseGuards(MeterGuard)(target, key, descriptor);
}
