import { Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { TenantsService } from '../tenants/tenants.service';
import type { TenantRequest } from './tenant-request';

function apiKeyOf(request: TenantRequest): string | undefined {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string' && authorization.startsWith('Bearer ')) return authorization.slice('Bearer '.length).trim();
  const header = request.headers['x-api-key'];
  return typeof header === 'string' ? header : undefined;
}

/** Authenticates the tenant by API key (`Authorization: Bearer <key>` or `x-api-key`) and puts it on the request. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(private readonly tenants: TenantsService) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<TenantRequest>();
    const tenant = this.tenants.authenticate(apiKeyOf(request));
    if (tenant === undefined) {
      throw new UnauthorizedException({ error: { code: 'UNAUTHORIZED', message: 'Send your API key as "Authorization: Bearer <key>" or "x-api-key".' } });
    }
    request.tenant = tenant;
    return true;
  }
}
