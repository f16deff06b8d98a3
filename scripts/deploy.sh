#!/usr/bin/env bash
# Build and (re)start Elizabeth with Docker Compose, backing up existing data first.
set -euo pipefail
# shellcheck source=scripts/_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

usage() {
  cat <<'EOF'
Usage: scripts/deploy.sh [--postgres] [--no-backup] [--no-cache] [--help]

  1. checks that .env exists (copies .env.docker to .env and stops when it does not), that
     JWT_SECRET in it is neither the template placeholder nor shorter than 32 characters, and
     that Docker and Compose (the v2 plugin `docker compose` or v1 `docker-compose`) are installed
  2. backs up the existing data with scripts/backup.sh (unless --no-backup)
  3. prepares the bind-mounted directories (scripts/docker_prepare_volumes.sh)
  4. builds the images (--no-cache: from scratch)
  5. starts the stack (--postgres: with docker-compose.postgres.yml, same as ELIZABETH_POSTGRES=1)
  6. waits until both containers report healthy (30 tries, 2 s apart) and prints the URLs

Exit status: 0 deployed and healthy, 1 a step failed, 2 bad usage, 3 .env missing or the
secret unusable, 4 Docker or Compose missing, 5 the containers did not become healthy.
EOF
}

BACKUP=1 NO_CACHE=()
while (($#)); do
  case "$1" in
    --postgres) export ELIZABETH_POSTGRES=1; shift ;;
    --no-backup) BACKUP=0; shift ;;
    --no-cache) NO_CACHE=(--no-cache); shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit "$EXIT_USAGE" ;;
  esac
done

step "1/6 checking .env, the secret and the tools"
if [[ ! -f "$ENV_FILE" ]]; then
  template="$ELIZABETH_ROOT/.env.docker"
  [[ -f "$template" ]] || die "$EXIT_CONFIG" "neither $ENV_FILE nor the template $template exists"
  cp "$template" "$ENV_FILE"
  chmod 600 "$ENV_FILE"
  die "$EXIT_CONFIG" "created $ENV_FILE from .env.docker; set JWT_SECRET in it (openssl rand -hex 32) and run again"
fi
problem="$(secret_problem "$(setting JWT_SECRET)")"
if [[ -n "$problem" ]]; then
  die "$EXIT_CONFIG" "JWT_SECRET $problem. Generate one with: openssl rand -hex 32 — and put it in $ENV_FILE"
fi
command -v docker >/dev/null 2>&1 || die "$EXIT_PREREQ" "docker is not installed (https://docs.docker.com/engine/install/)"
detect_compose || die "$EXIT_PREREQ" "Docker Compose is not installed (the 'docker compose' plugin or docker-compose)"
info "$(docker --version)"
info "$("${COMPOSE[@]}" version 2>/dev/null | head -n1)"

step "2/6 backing up existing data"
DATA_DIR="$(data_dir)"
STORAGE_DIR="$(storage_dir)"
if ((BACKUP)) && [[ -n "$(find "$DATA_DIR" "$STORAGE_DIR" -mindepth 1 -type f ! -name .gitignore ! -name .gitkeep -print -quit 2>/dev/null)" ]]; then
  "$ELIZABETH_ROOT/scripts/backup.sh" >/dev/null || die "$EXIT_FAILURE" "the backup failed; not deploying (--no-backup to skip it)"
else
  info "nothing to back up"
fi

step "3/6 preparing the directories"
"$ELIZABETH_ROOT/scripts/docker_prepare_volumes.sh"

step "4/6 building the images"
compose build "${NO_CACHE[@]}" || die "$EXIT_FAILURE" "the build failed"

step "5/6 starting the stack"
compose up -d --remove-orphans || die "$EXIT_FAILURE" "compose up failed"

step "6/6 waiting for the health checks"
sleep 5
healthy=0
for ((i = 1; i <= 30; i++)); do
  backend="$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}unknown{{end}}' elizabeth-backend 2>/dev/null || echo missing)"
  frontend="$(docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}unknown{{end}}' elizabeth-frontend 2>/dev/null || echo missing)"
  info "backend: $backend, frontend: $frontend ($i/30)"
  if [[ "$backend" == healthy && "$frontend" == healthy ]]; then
    healthy=1
    break
  fi
  sleep 2
done
((healthy)) || die "$EXIT_HEALTH" "the containers did not become healthy; see: ${COMPOSE[*]} logs"

host="$(setting PUBLISH_ADDR 0.0.0.0)"
[[ "$host" == 0.0.0.0 ]] && host=localhost
cat <<EOF

Elizabeth is running.
  Web app:      http://$host:$(setting FRONTEND_PORT 4001)   (standalone web container)
  Web app, API: http://$host:$(setting BACKEND_PORT 4092)   (server container)
  API docs:     http://$host:$(setting BACKEND_PORT 4092)/api/v1/scalar
  Health:       http://$host:$(setting BACKEND_PORT 4092)/api/v1/health

  Logs:     ${COMPOSE[*]} logs -f
  Status:   ${COMPOSE[*]} ps
  Stop:     ${COMPOSE[*]} down
  Backup:   ./scripts/backup.sh
EOF
