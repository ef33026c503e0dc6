#!/usr/bin/env bash
# Starts a local PostgreSQL server (Debian's postgresql package, installed if missing) for the study
# tests, with a role that may create databases, and prints its URL for SYNTHDIFF_TEST_POSTGRES_URL.
# Used by .ci/run; run it yourself (as root) to include the PostgreSQL tests in `make test`.
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | grep -q "^$version main "; then
    pg_createcluster "$version" main >/dev/null
fi
if ! pg_lsclusters -h | grep -q "^$version main .* online"; then
    pg_ctlcluster "$version" main start >&2
fi
port=$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $3}')
runuser -u postgres -- psql -q -p "$port" -c "DO \$\$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'synthdiff_test') THEN
        CREATE ROLE synthdiff_test LOGIN CREATEDB PASSWORD 'synthdiff_test';
    END IF; END \$\$;" >&2
echo "postgresql://synthdiff_test:synthdiff_test@127.0.0.1:$port/postgres"
