import type { RegistrationRouteOptions } from '@meterkit/core';
import type { TenantsService } from './tenants.service';

/** A new AWS Marketplace buyer gets a tenant with a fresh API key, shown once on the welcome page. */
export function marketplaceSignup(tenants: TenantsService): RegistrationRouteOptions['onRegistered'] {
  return () => {
    const { tenant, apiKey } = tenants.create('AWS Marketplace buyer');
    return { tenantId: tenant.id, redirect: `/welcome?ref=${tenants.offerWelcome(tenant.id, apiKey)}` };
  };
}
