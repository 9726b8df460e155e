#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers at METERKIT_TEST_PG_URL (default below) for @meterkit/store-postgres's tests.
# If none answers and this runs as root on Debian/Ubuntu, installs Debian's postgresql package, starts the cluster
# and creates the meterkit role and database. Otherwise says what to do.
set -euo pipefail

url="${METERKIT_TEST_PG_URL:-postgres://meterkit:meterkit@127.0.0.1:5432/meterkit}"

answers() {
  node -e "
    const { Client } = require('pg');
    const c = new Client({ connectionString: process.argv[1], connectionTimeoutMillis: 2000 });
    c.connect().then(() => c.end()).then(() => process.exit(0), () => process.exit(1));
  " "$url" 2>/dev/null
}

if answers; then
  echo "PostgreSQL answers at ${url%%@*}@…"
  exit 0
fi

if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "No PostgreSQL server answers at METERKIT_TEST_PG_URL." >&2
  echo "Start one and create the role and database, e.g. as root: bash tools/scripts/ensure-postgres.sh" >&2
  echo "or point METERKIT_TEST_PG_URL at a database the tests may fill and empty." >&2
  exit 1
fi

if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
  echo "Installing PostgreSQL from Debian's packages…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi

version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
if ! pg_lsclusters -h 2>/dev/null | grep -q "^$version main"; then
  pg_createcluster "$version" main >/dev/null
fi
pg_ctlcluster "$version" main start 2>/dev/null || true

for _ in $(seq 1 30); do
  su postgres -c "psql -qAtc 'select 1'" >/dev/null 2>&1 && break
  sleep 1
done

su postgres -c "psql -qAt" <<'SQL' >/dev/null
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'meterkit') THEN
    CREATE ROLE meterkit LOGIN PASSWORD 'meterkit' CREATEDB;
  END IF;
END $$;
SQL
su postgres -c "psql -qAtc \"SELECT 1 FROM pg_database WHERE datname = 'meterkit'\"" | grep -q 1 \
  || su postgres -c "createdb -O meterkit meterkit"

if answers; then
  echo "PostgreSQL $version started; role and database meterkit ready."
else
  echo "PostgreSQL $version was started but does not answer at $url" >&2
  exit 1
fi
