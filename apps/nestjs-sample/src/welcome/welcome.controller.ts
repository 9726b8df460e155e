import { BadRequestException, Controller, Get, Header, NotFoundException, Query } from '@nestjs/common';
import { TenantsService } from '../tenants/tenants.service';

/** Where a new AWS Marketplace buyer lands after registration: shows their API key once. */
@Controller('welcome')
export class WelcomeController {
  constructor(private readonly tenants: TenantsService) {}

  @Get()
  @Header('cache-control', 'no-store')
  welcome(@Query('ref') ref: unknown): { tenantId: string; apiKey: string; message: string } {
    if (typeof ref !== 'string' || ref.length === 0 || ref.length > 100) {
      throw new BadRequestException({ error: { code: 'INVALID_REF', message: 'ref must be the reference from your welcome link.' } });
    }
    const welcome = this.tenants.takeWelcome(ref);
    if (welcome === undefined) throw new NotFoundException({ error: { code: 'WELCOME_NOT_FOUND', message: 'This welcome link was already used or has expired.' } });
    return { tenantId: welcome.tenant.id, apiKey: welcome.apiKey, message: 'Keep this API key: it is shown only once.' };
  }
}
