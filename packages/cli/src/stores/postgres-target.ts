/** Where a `postgres://` store points, for messages: never the password. */
export interface PostgresTarget {
  readonly host: string;
  readonly port: string;
  readonly database: string;
  /** Undefined when the connection string names no user (pg then takes PGUSER or the system user). */
  readonly user?: string;
}

export function postgresTarget(connectionString: string, env: Readonly<Record<string, string | undefined>>): PostgresTarget {
  let url: URL | undefined;
  try {
    url = new URL(connectionString);
  } catch {
    url = undefined;
  }
  const user = decode(url?.username) || env['PGUSER'];
  return {
    host: decode(url?.hostname) || url?.searchParams.get('host') || env['PGHOST'] || 'localhost',
    port: url?.port || env['PGPORT'] || '5432',
    database: decode(url?.pathname.replace(/^\//, '')) || env['PGDATABASE'] || user || '',
    ...(user ? { user } : {}),
  };
}

function decode(value: string | undefined): string {
  if (value === undefined || value === '') return '';
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
