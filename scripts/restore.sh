#!/usr/bin/env bash
# Restore an Elizabeth deployment from a backup written by scripts/backup.sh.
set -euo pipefail
# shellcheck source=scripts/_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

usage() {
  cat <<'EOF'
Usage: scripts/restore.sh [--yes] [--dir DIR] [--no-restart] [--verify-only] BACKUP_NAME
       scripts/restore.sh --list [--dir DIR]

Replaces the deployment's database, data directory, stored files and configuration with the
backup BACKUP_NAME (e.g. elizabeth_backup_20260101_120000) from DIR (default ./backups,
or BACKUP_DIR). Steps:
  1. verify: every archive is present, matches elizabeth_backup_*_sha256.txt, is a readable
     gzip/tar and holds only relative paths; nothing is touched when this fails
  2. ask for confirmation (type "yes"; --yes skips the question)
  3. stop the server: ELIZABETH_STOP_CMD if set, else `docker compose stop frontend backend`
  4. restore the data directory, storage and configuration (unpacked next to the targets
     first, then swapped in), and for PostgreSQL load the dump with psql in one transaction
  5. start the server: ELIZABETH_START_CMD if set, else `docker compose up -d`
  6. wait for health (30 tries, 2 s apart) at ELIZABETH_HEALTH_URL
     (default http://127.0.0.1:$BACKEND_PORT/api/v1/health)

--no-restart skips steps 3, 5 and 6 (stop the server yourself first); --verify-only stops
after step 1. Settings as in backup.sh: ELIZABETH_DATA_DIR, ELIZABETH_STORAGE_DIR,
ELIZABETH_BACKEND_CONFIG, DATABASE_URL, ELIZABETH_POSTGRES=1, ELIZABETH_ENV_FILE.
Running as root, restored files are given to ELIZABETH_UID:ELIZABETH_GID (default 1000:1000)
when the data directory belonged to that user.

Exit status: 0 restored (or verified), 1 a step failed or the restore was cancelled,
2 bad usage, 3 the backup is missing, incomplete or corrupt (nothing was changed),
4 compose is needed but missing, 5 the server did not become healthy after the restore.
EOF
}

BACKUP_DIR="$(setting BACKUP_DIR ./backups)"
ASSUME_YES=0 RESTART=1 VERIFY_ONLY=0 LIST=0 NAME=''
while (($#)); do
  case "$1" in
    --yes | -y) ASSUME_YES=1; shift ;;
    --dir) BACKUP_DIR=${2:?--dir needs a directory}; shift 2 ;;
    --no-restart) RESTART=0; shift ;;
    --verify-only) VERIFY_ONLY=1; shift ;;
    --list) LIST=1; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) usage >&2; exit "$EXIT_USAGE" ;;
    *) [[ -z "$NAME" ]] || { usage >&2; exit "$EXIT_USAGE"; }; NAME=$1; shift ;;
  esac
done
BACKUP_DIR="$(abs_path "$BACKUP_DIR")"

list_backups() {
  find "$BACKUP_DIR" -maxdepth 1 -type f -name 'elizabeth_backup_*_sha256.txt' -printf '%f\n' 2>/dev/null |
    sed 's/_sha256\.txt$//' | sort
}

if ((LIST)) || [[ -z "$NAME" ]]; then
  if [[ -z "$NAME" && $LIST -eq 0 ]]; then
    usage >&2
    echo >&2
  fi
  echo "Backups in $BACKUP_DIR:" >&2
  list_backups
  ((LIST)) && exit 0
  exit "$EXIT_USAGE"
fi
[[ "$NAME" =~ ^elizabeth_backup_[0-9]{8}_[0-9]{6}$ ]] ||
  die "$EXIT_USAGE" "'$NAME' is not a backup name (elizabeth_backup_YYYYmmdd_HHMMSS); see --list"

PREFIX="$BACKUP_DIR/$NAME"
DATA_DIR="$(data_dir)"
STORAGE_DIR="$(storage_dir)"
CONFIG_FILE="$(config_file)"
DB_URL="$(database_url)"

# --- 1. verify ---------------------------------------------------------------------------------
step "1/6 verifying $NAME"
corrupt() { die "$EXIT_CONFIG" "backup $NAME is unusable: $*; nothing was changed"; }
[[ -f "$PREFIX""_sha256.txt" ]] || corrupt "$PREFIX""_sha256.txt is missing"
for part in data storage; do
  [[ -f "$PREFIX""_$part.tar.gz" ]] || corrupt "${NAME}_$part.tar.gz is missing"
done
DUMP="$PREFIX""_database.sql.gz"
if is_postgres_url "$DB_URL"; then
  [[ -f "$DUMP" ]] || corrupt "${NAME}_database.sql.gz is missing but the deployment uses PostgreSQL"
elif [[ -f "$DUMP" ]]; then
  corrupt "it holds a PostgreSQL dump but DATABASE_URL points at SQLite; set DATABASE_URL (or ELIZABETH_POSTGRES=1)"
fi
# Every archive must be listed, and every listed file must match.
while IFS= read -r f; do
  grep -q "  ${f##*/}\$" "$PREFIX""_sha256.txt" || corrupt "${f##*/} has no checksum"
done < <(find "$BACKUP_DIR" -maxdepth 1 -type f \( -name "${NAME}_*.tar.gz" -o -name "${NAME}_*.sql.gz" \))
(cd "$BACKUP_DIR" && sha256sum --quiet --strict -c "${NAME}_sha256.txt") >&2 || corrupt "checksums do not match"
for archive in "$PREFIX"_*.tar.gz "$PREFIX"_*.sql.gz; do
  [[ -f "$archive" ]] || continue
  gzip -t "$archive" 2>/dev/null || corrupt "${archive##*/} is not a valid gzip file"
  if [[ "$archive" == *.tar.gz ]]; then
    members="$(tar -tzf "$archive" 2>/dev/null)" || corrupt "${archive##*/} is not a readable tar archive"
    if grep -Eq '(^/|(^|/)\.\.(/|$))' <<<"$members"; then
      corrupt "${archive##*/} contains absolute or parent-directory paths"
    fi
  fi
done
info "archives verified"
((VERIFY_ONLY)) && exit 0

# --- 2. confirm --------------------------------------------------------------------------------
if ((!ASSUME_YES)); then
  warn "This replaces ALL data of the deployment with $NAME:"
  warn "  $DATA_DIR, $STORAGE_DIR, $CONFIG_FILE$(is_postgres_url "$DB_URL" && printf ', database %s' "$(redact_url "$DB_URL")")"
  answer=''
  read -r -p "Type yes to continue: " answer || true
  if [[ ! "$answer" =~ ^[Yy][Ee][Ss]$ ]]; then
    error "cancelled; nothing was changed"
    exit "$EXIT_FAILURE"
  fi
fi

# --- 3. stop -----------------------------------------------------------------------------------
if ((RESTART)); then
  step "3/6 stopping the server"
  if [[ -n "${ELIZABETH_STOP_CMD:-}" ]]; then
    bash -c "$ELIZABETH_STOP_CMD" || die "$EXIT_FAILURE" "ELIZABETH_STOP_CMD failed"
  else
    compose stop frontend backend || die "$EXIT_FAILURE" "could not stop the containers"
  fi
else
  step "3/6 not stopping anything (--no-restart)"
fi

# --- 4. restore --------------------------------------------------------------------------------
# swap_in ARCHIVE TARGET_DIR: unpack next to TARGET_DIR, then replace its contents.
swap_in() {
  local archive=$1 target=$2 stage owner=''
  mkdir -p "$target"
  stage="$(mktemp -d "$(dirname "$target")/.restore-$(basename "$target").XXXXXX")"
  tar -C "$stage" --numeric-owner -xzf "$archive" || {
    rm -rf "$stage"
    die "$EXIT_FAILURE" "could not unpack ${archive##*/}"
  }
  [[ $(id -u) -eq 0 ]] && owner="$(stat -c %u:%g "$target")"
  find "$target" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
  find "$stage" -mindepth 1 -maxdepth 1 -exec mv -t "$target" {} +
  rmdir "$stage"
  if [[ -n "$owner" && "$owner" != 0:0 ]]; then chown -R "$owner" "$target"; fi
}

step "4/6 restoring"
swap_in "$PREFIX""_data.tar.gz" "$DATA_DIR"
info "data directory restored: $DATA_DIR"
swap_in "$PREFIX""_storage.tar.gz" "$STORAGE_DIR"
info "storage restored: $STORAGE_DIR"
if [[ -f "$PREFIX""_config.tar.gz" ]]; then
  config_dir="$(dirname "$CONFIG_FILE")"
  mkdir -p "$config_dir"
  tar -C "$config_dir" -xzf "$PREFIX""_config.tar.gz"
  info "configuration restored: $config_dir"
fi
if is_postgres_url "$DB_URL"; then
  if [[ "$(setting ELIZABETH_POSTGRES 0)" == 1 ]]; then
    # shellcheck disable=SC2016 # expanded by the shell inside the postgres container
    gzip -dc "$DUMP" | compose exec -T postgres sh -c \
      'psql -q -v ON_ERROR_STOP=1 --single-transaction -U "$POSTGRES_USER" -d "$POSTGRES_DB"' >/dev/null ||
      die "$EXIT_FAILURE" "loading the PostgreSQL dump failed"
  else
    command -v psql >/dev/null 2>&1 || die "$EXIT_FAILURE" "psql is needed (apt-get install postgresql-client)"
    gzip -dc "$DUMP" | psql -q -v ON_ERROR_STOP=1 --single-transaction --dbname="$DB_URL" >/dev/null ||
      die "$EXIT_FAILURE" "loading the PostgreSQL dump failed"
  fi
  info "PostgreSQL database restored"
fi

# --- 5/6. start and wait -------------------------------------------------------------------------
if ((RESTART)); then
  step "5/6 starting the server"
  if [[ -n "${ELIZABETH_START_CMD:-}" ]]; then
    bash -c "$ELIZABETH_START_CMD" || die "$EXIT_FAILURE" "ELIZABETH_START_CMD failed"
  else
    compose up -d || die "$EXIT_FAILURE" "could not start the containers"
  fi
  step "6/6 waiting for health"
  wait_for_health "$(health_url)" 30 2 || die "$EXIT_HEALTH" "the server did not become healthy; see its logs"
fi
info "restored $NAME"
