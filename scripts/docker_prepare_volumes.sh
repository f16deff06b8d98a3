#!/usr/bin/env bash
# Prepare the host directories that docker-compose.yml bind-mounts into the server container.
set -euo pipefail
# shellcheck source=scripts/_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

usage() {
  cat <<'EOF'
Usage: scripts/docker_prepare_volumes.sh [--no-port-check] [--help]

  - creates the data directory (ELIZABETH_DATA_DIR, default ./docker/backend/data) and the
    storage directory with its rooms/ folder (ELIZABETH_STORAGE_DIR, ./docker/backend/storage)
  - gives both to the container user ELIZABETH_UID:ELIZABETH_GID (default 1000:1000) when run
    as root, and says what to run when it cannot
  - copies the default configuration (docker/backend/config/backend.yaml) to
    ELIZABETH_BACKEND_CONFIG when that file does not exist yet
  - fails early when BACKEND_PORT (4092) or FRONTEND_PORT (4001) is taken by something other
    than the Elizabeth containers, or when a process on this host holds the SQLite database
    open (a server started outside Docker: two servers on one SQLite file corrupt it)

Settings come from the environment, else .env (ELIZABETH_ENV_FILE), else the defaults.

Exit status: 0 ready, 1 a step failed, 2 bad usage, 3 a port or the database is in use
or the configuration is missing.
EOF
}

PORT_CHECK=1
while (($#)); do
  case "$1" in
    --no-port-check) PORT_CHECK=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit "$EXIT_USAGE" ;;
  esac
done

DATA_DIR="$(data_dir)"
STORAGE_DIR="$(storage_dir)"
CONFIG_FILE="$(config_file)"
DEFAULT_CONFIG="$ELIZABETH_ROOT/docker/backend/config/backend.yaml"
USER_ID="$(setting ELIZABETH_UID 1000)"
GROUP_ID="$(setting ELIZABETH_GID 1000)"

mkdir -p "$DATA_DIR" "$STORAGE_DIR/rooms"

if [[ ! -f "$CONFIG_FILE" ]]; then
  [[ -f "$DEFAULT_CONFIG" ]] ||
    die "$EXIT_CONFIG" "neither $CONFIG_FILE nor the default $DEFAULT_CONFIG exists; restore it from the repository"
  mkdir -p "$(dirname "$CONFIG_FILE")"
  cp "$DEFAULT_CONFIG" "$CONFIG_FILE"
  info "copied the default configuration to $CONFIG_FILE"
fi

if [[ $(id -u) -eq 0 ]]; then
  chown -R "$USER_ID:$GROUP_ID" "$DATA_DIR" "$STORAGE_DIR"
elif [[ "$(stat -c %u "$DATA_DIR")" != "$USER_ID" || "$(stat -c %u "$STORAGE_DIR")" != "$USER_ID" ]]; then
  if [[ "$(id -u)" == "$USER_ID" ]]; then
    : # the current user is the container user
  else
    warn "$DATA_DIR and $STORAGE_DIR should belong to uid $USER_ID (the container user):"
    warn "  sudo chown -R $USER_ID:$GROUP_ID '$DATA_DIR' '$STORAGE_DIR'"
    warn "(Docker Desktop on macOS maps ownership itself and needs nothing.)"
  fi
fi

container_running() {
  command -v docker >/dev/null 2>&1 &&
    [[ "$(docker inspect -f '{{.State.Running}}' "$1" 2>/dev/null || true)" == true ]]
}

port_in_use() {
  # Connecting succeeds when something listens; bash's /dev/tcp needs no extra tools.
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

if ((PORT_CHECK)); then
  for pair in "BACKEND_PORT:4092:elizabeth-backend" "FRONTEND_PORT:4001:elizabeth-frontend"; do
    IFS=: read -r var default container <<<"$pair"
    port="$(setting "$var" "$default")"
    if port_in_use "$port" && ! container_running "$container"; then
      die "$EXIT_CONFIG" "port $port ($var) is already in use on this host; stop what listens there or change $var in .env"
    fi
  done
fi

db_file="$(sqlite_host_file "$(setting DATABASE_URL sqlite:///app/data/elizabeth.db)")"
if [[ -f "$db_file" ]] && command -v lsof >/dev/null 2>&1 && ! container_running elizabeth-backend; then
  if holders="$(lsof -t -- "$db_file" 2>/dev/null)" && [[ -n "$holders" ]]; then
    die "$EXIT_CONFIG" "process(es) $(tr '\n' ' ' <<<"$holders")hold $db_file open; stop the server running outside Docker first"
  fi
fi

info "data:    $DATA_DIR"
info "storage: $STORAGE_DIR"
info "config:  $CONFIG_FILE"
