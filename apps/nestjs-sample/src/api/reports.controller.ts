import { Controller, Get, Req, UseGuards } from '@nestjs/common';
import { Metered } from '@meterkit/nestjs';
import { ApiKeyGuard } from '../auth/api-key.guard';
import type { TenantRequest } from '../auth/tenant-request';

@Controller('v1/reports')
@UseGuards(ApiKeyGuard)
@Metered('api_calls')
export class ReportsController {
  @Get()
  list(@Req() request: TenantRequest): { tenant: string | undefined; reports: Array<{ id: string; title: string }> } {
    return { tenant: request.tenant?.name, reports: [{ id: 'r-1', title: 'Monthly usage' }] };
  }
}
