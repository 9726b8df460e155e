import { ConfigurableModuleBuilder } from '@nestjs/common';
import { METERING_MODULE_OPTIONS } from './metering.constants';
import type { MeteringModuleOptions } from './metering-options';

export interface MeteringModuleExtras {
  /** Register the module globally, so `MeteringService` and `@InjectMetering()` work in every module. Default false. */
  readonly isGlobal?: boolean;
}

export const { ConfigurableModuleClass, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } = new ConfigurableModuleBuilder<MeteringModuleOptions>({
  optionsInjectionToken: METERING_MODULE_OPTIONS,
  moduleName: 'Metering',
})
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createMeteringOptions')
  .setExtras<MeteringModuleExtras>({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal === true }))
  .build();
