import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import type { RequestMeter } from '@meterkit/core';
import { Meter, Metered } from '@meterkit/nestjs';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { ProcessBodyPipe, type ProcessBody } from './process-body.pipe';

const GB = 1_000_000_000;

@Controller('v1/process')
@UseGuards(ApiKeyGuard)
export class ProcessController {
  /** Bills one api_call and the processed volume in started gigabytes. */
  @Post()
  @HttpCode(200)
  @Metered('api_calls')
  process(@Body(ProcessBodyPipe) body: ProcessBody, @Meter() meter: RequestMeter | null): { files: number; gbProcessed: number } {
    const bytes = body.files.reduce((sum, file) => sum + file.sizeBytes, 0);
    const gigabytes = Math.ceil(bytes / GB);
    meter?.record('gb_processed', gigabytes);
    return { files: body.files.length, gbProcessed: gigabytes };
  }
}
