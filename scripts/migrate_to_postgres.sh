#!/usr/bin/env bash
# Copy a SQLite deployment of Elizabeth into PostgreSQL (`elizabeth migrate --to`).
set -euo pipefail
# shellcheck source=scripts/_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

usage() {
  cat <<'EOF'
Usage: scripts/migrate_to_postgres.sh --to postgres://USER:PASSWORD@HOST:5432/DB [--from URL] [--help]

Copies every room, session, content and upload record of the SQLite database into an empty
PostgreSQL database with the same ids, in one transaction, and compares the row counts
(`elizabeth migrate --db-url FROM --to URL`). Stored files stay where they are: afterwards set
DATABASE_URL to the PostgreSQL URL (or use docker-compose.postgres.yml) and start the server
with the same storage. The PostgreSQL schema is created by the copy.

  --from URL   the SQLite database (default: DATABASE_URL from the environment or .env;
               sqlite:///app/data/… means the data directory ELIZABETH_DATA_DIR)
  --to URL     the PostgreSQL database; it must exist and be empty (TARGET_DB works too)

Stop the server first (`docker compose stop backend`): rows written during the copy would
be missing from it. Runs with this repository's Node.js (`npm ci && npm run build` done),
else in the server image (ELIZABETH_BACKEND_IMAGE) on elizabeth-network, so that the compose
host name `postgres` resolves; ELIZABETH_MIGRATE_VIA=host|container forces one.

Exit status: 0 copied and verified, 1 the copy failed (the target is left unchanged),
2 bad usage, 3 the source is missing or the server still runs, 4 neither Node.js nor Docker.
EOF
}

FROM='' TO="${TARGET_DB:-}"
while (($#)); do
  case "$1" in
    --from) FROM=${2:?--from needs a URL}; shift 2 ;;
    --to) TO=${2:?--to needs a URL}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit "$EXIT_USAGE" ;;
  esac
done
[[ -n "$TO" ]] || { usage >&2; exit "$EXIT_USAGE"; }
is_postgres_url "$TO" || die "$EXIT_USAGE" "--to must be a postgres:// or postgresql:// URL"
[[ -n "$FROM" ]] || FROM="$(setting DATABASE_URL sqlite:///app/data/elizabeth.db)"
[[ "$FROM" == sqlite:* ]] || die "$EXIT_USAGE" "--from must be a sqlite: URL, got ${FROM%%:*}:…"
SOURCE_FILE="$(sqlite_host_file "$FROM")"
[[ -f "$SOURCE_FILE" ]] || die "$EXIT_CONFIG" "no SQLite database at $SOURCE_FILE"

if command -v docker >/dev/null 2>&1 &&
  [[ "$(docker inspect -f '{{.State.Running}}' elizabeth-backend 2>/dev/null || true)" == true ]]; then
  die "$EXIT_CONFIG" "the elizabeth-backend container is running; stop it first (docker compose stop backend)"
fi

via="$(setting ELIZABETH_MIGRATE_VIA auto)"
if [[ "$via" == auto ]]; then
  if command -v node >/dev/null 2>&1 && [[ -d "$ELIZABETH_ROOT/node_modules/better-sqlite3" ]]; then
    via=host
  elif command -v docker >/dev/null 2>&1; then
    via=container
  else
    die "$EXIT_PREREQ" "neither Node.js with this repository's dependencies nor Docker is available"
  fi
fi

info "copying $SOURCE_FILE into $(redact_url "$TO") ($via)"
case "$via" in
  host)
    node "$ELIZABETH_ROOT/apps/server/bin/elizabeth.js" migrate \
      --db-url "sqlite://$SOURCE_FILE" --to "$TO" || die "$EXIT_FAILURE" "the copy failed; the target was not changed"
    ;;
  container)
    data="$(data_dir)"
    [[ "$SOURCE_FILE" == "$data"/* ]] || die "$EXIT_CONFIG" "in a container the database must be inside $data"
    docker run --rm --network elizabeth-network -v "$data:/app/data" --entrypoint node \
      "$(setting ELIZABETH_BACKEND_IMAGE elizabeth-backend:latest)" /app/apps/server/bin/elizabeth.js migrate \
      --db-url "sqlite:///app/data/${SOURCE_FILE#"$data"/}" --to "$TO" ||
      die "$EXIT_FAILURE" "the copy failed; the target was not changed"
    ;;
  *) die "$EXIT_USAGE" "ELIZABETH_MIGRATE_VIA must be host or container, got '$via'" ;;
esac

cat >&2 <<EOF

Next steps:
  1. keep $SOURCE_FILE as a fallback until you are happy
  2. set DATABASE_URL to the PostgreSQL URL in .env (or start with -f docker-compose.postgres.yml)
  3. start the server with the same storage directory: docker compose up -d
EOF
