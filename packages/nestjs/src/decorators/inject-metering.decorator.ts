import { Inject } from '@nestjs/common';
import { METERING } from '../metering.constants';

/** Injects the core `Metering` instance of the `MeteringModule`. */
export const InjectMetering = (): PropertyDecorator & ParameterDecorator => Inject(METERING);
