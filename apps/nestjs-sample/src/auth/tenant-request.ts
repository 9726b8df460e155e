import type { Tenant } from '../tenants/tenants.service';

/** The request as the API sees it on both platforms, with the tenant the ApiKeyGuard authenticated. */
export interface TenantRequest {
  readonly headers: Record<string, string | string[] | undefined>;
  tenant?: Tenant;
}
