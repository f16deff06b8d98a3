#!/usr/bin/env bash
# Shared helpers of the deployment scripts (deploy.sh, backup.sh, restore.sh,
# docker_prepare_volumes.sh, migrate_to_postgres.sh). Sourced, never run.
#
# Settings are looked up in this order: the process environment, then the env file
# (ELIZABETH_ENV_FILE, default <repo>/.env), then the built-in default.

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  echo "scripts/_common.sh is a library for the other scripts; run one of them with --help" >&2
  exit 2
fi

ELIZABETH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENV_FILE="${ELIZABETH_ENV_FILE:-$ELIZABETH_ROOT/.env}"

# Exit statuses shared by the scripts.
# shellcheck disable=SC2034 # used by the scripts that source this file
readonly EXIT_FAILURE=1 EXIT_USAGE=2 EXIT_CONFIG=3 EXIT_PREREQ=4 EXIT_HEALTH=5

if [[ -t 2 && -z "${NO_COLOR:-}" ]]; then
  _c_red=$'\e[31m' _c_yellow=$'\e[33m' _c_green=$'\e[32m' _c_blue=$'\e[34m' _c_off=$'\e[0m'
else
  _c_red='' _c_yellow='' _c_green='' _c_blue='' _c_off=''
fi
info() { printf '%s[INFO]%s %s\n' "$_c_green" "$_c_off" "$*" >&2; }
warn() { printf '%s[WARN]%s %s\n' "$_c_yellow" "$_c_off" "$*" >&2; }
error() { printf '%s[ERROR]%s %s\n' "$_c_red" "$_c_off" "$*" >&2; }
step() { printf '%s[STEP]%s %s\n' "$_c_blue" "$_c_off" "$*" >&2; }
# die <status> <message…>
die() {
  local status=$1
  shift
  error "$*"
  exit "$status"
}

# read_env_var KEY FILE: the value of the last `KEY=` line of a dotenv file, with `export `,
# surrounding quotes and an inline ` # comment` (outside quotes) removed. Empty when absent.
read_env_var() {
  local key=$1 file=$2 line value=''
  [[ -f "$file" ]] || return 0
  while IFS= read -r line || [[ -n "$line" ]]; do
    line="${line#"${line%%[![:space:]]*}"}"
    line="${line#export }"
    [[ "$line" == "$key="* ]] || continue
    value="${line#*=}"
  done <"$file"
  value="${value#"${value%%[![:space:]]*}"}"
  if [[ "$value" == \"* ]]; then
    value="${value#\"}"
    value="${value%%\"*}"
  elif [[ "$value" == \'* ]]; then
    value="${value#\'}"
    value="${value%%\'*}"
  else
    value="${value%%[[:space:]]#*}"
    value="${value%"${value##*[![:space:]]}"}"
  fi
  printf '%s' "$value"
}

# setting KEY DEFAULT: environment, else the env file, else DEFAULT.
setting() {
  local key=$1 default=${2-} value
  if [[ -n "${!key:-}" ]]; then
    printf '%s' "${!key}"
    return
  fi
  value="$(read_env_var "$key" "$ENV_FILE")"
  printf '%s' "${value:-$default}"
}

# abs_path PATH: PATH made absolute, relative paths taken from the repository root (as compose does).
abs_path() {
  case "$1" in
    /*) printf '%s' "$1" ;;
    *) printf '%s/%s' "$ELIZABETH_ROOT" "${1#./}" ;;
  esac
}

data_dir() { abs_path "$(setting ELIZABETH_DATA_DIR ./docker/backend/data)"; }
storage_dir() { abs_path "$(setting ELIZABETH_STORAGE_DIR ./docker/backend/storage)"; }
config_file() { abs_path "$(setting ELIZABETH_BACKEND_CONFIG ./docker/backend/config/backend.yaml)"; }

# The templates' placeholder secrets (also refused by the server itself).
PLACEHOLDER_SECRETS=(
  please-change-this-secret-in-production-min-32-chars-long-for-security
  please-change-this-secret-in-production-min-32-chars
  default-secret-change-in-productiondefault-secret-change-in-production
  change-me-to-a-random-secret-of-at-least-32-characters
)

# secret_problem SECRET: prints why SECRET cannot be used (nothing when it can).
secret_problem() {
  local secret=$1 lower placeholder
  lower="$(printf '%s' "$secret" | tr '[:upper:]' '[:lower:]')"
  for placeholder in "${PLACEHOLDER_SECRETS[@]}"; do
    if [[ "$lower" == "$placeholder" ]]; then
      printf 'is the placeholder from .env.docker'
      return
    fi
  done
  if [[ -z "$secret" ]]; then
    printf 'is not set'
  elif ((${#secret} < 32)); then
    printf 'is %d characters long; at least 32 are needed' "${#secret}"
  fi
}

# COMPOSE: the compose command as an array; ELIZABETH_COMPOSE overrides the detection
# (e.g. ELIZABETH_COMPOSE="podman-compose"). Empty when none is installed.
COMPOSE=()
detect_compose() {
  if [[ -n "${ELIZABETH_COMPOSE:-}" ]]; then
    read -r -a COMPOSE <<<"$ELIZABETH_COMPOSE"
  elif command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
    COMPOSE=(docker compose)
  elif command -v docker-compose >/dev/null 2>&1; then
    COMPOSE=(docker-compose)
  else
    COMPOSE=()
    return 1
  fi
  if [[ "$(setting ELIZABETH_POSTGRES 0)" == 1 ]]; then
    COMPOSE+=(-f "$ELIZABETH_ROOT/docker-compose.yml" -f "$ELIZABETH_ROOT/docker-compose.postgres.yml")
  fi
}

compose() {
  ((${#COMPOSE[@]} > 0)) || detect_compose || die "$EXIT_PREREQ" "neither 'docker compose' nor 'docker-compose' is installed"
  (cd "$ELIZABETH_ROOT" && "${COMPOSE[@]}" "$@")
}

# database_url: the server's database, as the running stack sees it.
database_url() {
  if [[ "$(setting ELIZABETH_POSTGRES 0)" == 1 ]]; then
    printf 'postgres://%s:%s@postgres:5432/%s' "$(setting POSTGRES_USER elizabeth)" \
      "$(setting POSTGRES_PASSWORD please-change-me)" "$(setting POSTGRES_DB elizabeth)"
  else
    setting DATABASE_URL sqlite:///app/data/elizabeth.db
  fi
}

# redact_url URL: the URL with its password replaced, for messages.
redact_url() { sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#' <<<"$1"; }

is_postgres_url() { [[ "$1" == postgres://* || "$1" == postgresql://* ]]; }

# sqlite_host_file URL: the host path of a SQLite database URL; /app/data/… is the data dir.
sqlite_host_file() {
  local url=$1 path
  path="${url#sqlite:}"
  path="${path#//}"
  path="${path%%\?*}"
  case "$path" in
    /app/data/*) printf '%s/%s' "$(data_dir)" "${path#/app/data/}" ;;
    /*) printf '%s' "$path" ;;
    *) printf '%s/%s' "$(data_dir)" "$path" ;;
  esac
}

# http_ok URL: true when URL answers 2xx (curl, else node).
http_ok() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsS -o /dev/null --max-time 5 "$1" 2>/dev/null
  else
    node -e "fetch(process.argv[1],{signal:AbortSignal.timeout(5000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))" "$1"
  fi
}

# wait_for_health URL [TRIES] [DELAY]: polls URL until it answers 2xx.
wait_for_health() {
  local url=$1 tries=${2:-30} delay=${3:-2} i
  for ((i = 1; i <= tries; i++)); do
    if http_ok "$url"; then
      info "healthy: $url"
      return 0
    fi
    info "waiting for $url ($i/$tries)"
    sleep "$delay"
  done
  return 1
}

health_url() { setting ELIZABETH_HEALTH_URL "http://127.0.0.1:$(setting BACKEND_PORT 4092)/api/v1/health"; }
