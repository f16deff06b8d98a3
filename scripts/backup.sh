#!/usr/bin/env bash
# Back up an Elizabeth deployment: database, data directory, stored files and configuration.
set -euo pipefail
# shellcheck source=scripts/_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/_common.sh"

usage() {
  cat <<'EOF'
Usage: scripts/backup.sh [--dir DIR] [--keep-days N] [--no-prune] [--help]

Writes a consistent backup of a running (or stopped) Elizabeth deployment into DIR
(default ./backups, or BACKUP_DIR):

  elizabeth_backup_YYYYmmdd_HHMMSS_data.tar.gz      data directory; the SQLite database in it is an
                                                    online snapshot (SQLite backup API), not a copy
  elizabeth_backup_YYYYmmdd_HHMMSS_database.sql.gz  PostgreSQL only: pg_dump (plain SQL, --clean)
  elizabeth_backup_YYYYmmdd_HHMMSS_storage.tar.gz   uploaded files (storage directory)
  elizabeth_backup_YYYYmmdd_HHMMSS_config.tar.gz    the server's YAML configuration
  elizabeth_backup_YYYYmmdd_HHMMSS_info.txt         what was backed up, how, and sizes
  elizabeth_backup_YYYYmmdd_HHMMSS_sha256.txt       checksums that restore.sh verifies

Backups older than N days (default 7, BACKUP_KEEP_DAYS) are deleted afterwards.

Settings (environment, else .env, else default): ELIZABETH_DATA_DIR, ELIZABETH_STORAGE_DIR,
ELIZABETH_BACKEND_CONFIG, DATABASE_URL, ELIZABETH_POSTGRES=1 (stack runs with
docker-compose.postgres.yml: dump through the postgres container), ELIZABETH_ENV_FILE (.env).
SQLite snapshots use the sqlite3 CLI, else Node with better-sqlite3 from this repository, else
the running backend container; ELIZABETH_SQLITE_TOOL=sqlite3|node|container forces one.

Exit status: 0 backup written, 1 a step failed (no partial backup is left), 2 bad usage,
3 configuration problem (e.g. database outside the data directory).
EOF
}

BACKUP_DIR="$(setting BACKUP_DIR ./backups)"
KEEP_DAYS="$(setting BACKUP_KEEP_DAYS 7)"
PRUNE=1
while (($#)); do
  case "$1" in
    --dir) BACKUP_DIR=${2:?--dir needs a directory}; shift 2 ;;
    --keep-days) KEEP_DAYS=${2:?--keep-days needs a number}; shift 2 ;;
    --no-prune) PRUNE=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit "$EXIT_USAGE" ;;
  esac
done
[[ "$KEEP_DAYS" =~ ^[0-9]+$ ]] || die "$EXIT_USAGE" "--keep-days must be a whole number, got '$KEEP_DAYS'"

BACKUP_DIR="$(abs_path "$BACKUP_DIR")"
DATA_DIR="$(data_dir)"
STORAGE_DIR="$(storage_dir)"
CONFIG_FILE="$(config_file)"
DB_URL="$(database_url)"

[[ -d "$DATA_DIR" ]] || die "$EXIT_CONFIG" "data directory $DATA_DIR does not exist (ELIZABETH_DATA_DIR)"
umask 077
mkdir -p "$BACKUP_DIR"

timestamp="$(date +%Y%m%d_%H%M%S)"
while compgen -G "$BACKUP_DIR/elizabeth_backup_${timestamp}_*" >/dev/null; do
  sleep 1
  timestamp="$(date +%Y%m%d_%H%M%S)"
done
NAME="elizabeth_backup_${timestamp}"
PREFIX="$BACKUP_DIR/$NAME"
STAGE="$(mktemp -d "${TMPDIR:-/tmp}/elizabeth-backup.XXXXXX")"
written=()
finished=0
cleanup() {
  rm -rf "$STAGE"
  if ((!finished)) && ((${#written[@]})); then
    error "backup failed; removing the partial files of $NAME"
    rm -f "${written[@]}"
  fi
}
trap cleanup EXIT

# snapshot_sqlite SOURCE DEST: a consistent copy of a live SQLite database.
snapshot_sqlite() {
  local src=$1 dest=$2 tool
  tool="$(setting ELIZABETH_SQLITE_TOOL auto)"
  if [[ "$tool" == auto ]]; then
    if command -v sqlite3 >/dev/null 2>&1; then
      tool=sqlite3
    elif command -v node >/dev/null 2>&1 && [[ -d "$ELIZABETH_ROOT/node_modules/better-sqlite3" ]]; then
      tool=node
    else
      tool=container
    fi
  fi
  info "snapshotting $src with $tool (SQLite online backup API)"
  case "$tool" in
    sqlite3)
      sqlite3 -bail -cmd '.timeout 30000' "$src" ".backup '${dest//\'/\'\'}'"
      ;;
    node)
      (cd "$ELIZABETH_ROOT" && node -e '
        const Database = require("better-sqlite3");
        const db = new Database(process.argv[1], { fileMustExist: true, timeout: 30000 });
        db.backup(process.argv[2]).then(() => db.close(), (e) => { console.error(e.message); process.exit(1); });
      ' "$src" "$dest")
      ;;
    container)
      [[ "$src" == "$DATA_DIR"/* ]] || die "$EXIT_CONFIG" "container snapshots need the database inside the data directory"
      local inside="/app/data/${src#"$DATA_DIR"/}" tmp_name
      tmp_name=".backup-$timestamp.db"
      compose exec -T backend node -e '
        const Database = require("/app/node_modules/better-sqlite3");
        const db = new Database(process.argv[1], { fileMustExist: true, timeout: 30000 });
        db.backup(process.argv[2]).then(() => db.close(), (e) => { console.error(e.message); process.exit(1); });
      ' "$inside" "/app/data/$tmp_name"
      mv "$DATA_DIR/$tmp_name" "$dest"
      ;;
    *) die "$EXIT_USAGE" "ELIZABETH_SQLITE_TOOL must be sqlite3, node or container, got '$tool'" ;;
  esac
  [[ -s "$dest" ]] || die "$EXIT_FAILURE" "the SQLite snapshot is empty"
}

sqlite_integrity() {
  local file=$1 verdict
  if command -v sqlite3 >/dev/null 2>&1; then
    verdict="$(sqlite3 "$file" 'PRAGMA integrity_check;')"
  elif command -v node >/dev/null 2>&1 && [[ -d "$ELIZABETH_ROOT/node_modules/better-sqlite3" ]]; then
    verdict="$(cd "$ELIZABETH_ROOT" && node -e '
      const db = new (require("better-sqlite3"))(process.argv[1], { readonly: true });
      console.log(db.pragma("integrity_check", { simple: true }));' "$file")"
  else
    return 0
  fi
  [[ "$verdict" == ok ]] || die "$EXIT_FAILURE" "the SQLite snapshot fails its integrity check: $verdict"
}

engine=sqlite
method=''
step "1/4 database"
mkdir -p "$STAGE/data"
# The data directory without the live database files; the snapshot takes the database's place.
db_rel=''
if is_postgres_url "$DB_URL"; then
  engine=postgres
  dump="$PREFIX""_database.sql.gz"
  written+=("$dump")
  if [[ "$(setting ELIZABETH_POSTGRES 0)" == 1 ]]; then
    method="pg_dump in the postgres container"
    # shellcheck disable=SC2016 # expanded by the shell inside the postgres container
    compose exec -T postgres sh -c 'pg_dump --no-owner --no-privileges --clean --if-exists -U "$POSTGRES_USER" -d "$POSTGRES_DB"' |
      gzip -9 >"$dump"
  else
    command -v pg_dump >/dev/null 2>&1 || die "$EXIT_FAILURE" "pg_dump is needed (apt-get install postgresql-client)"
    method="pg_dump $(pg_dump --version | awk '{print $NF}')"
    pg_dump --no-owner --no-privileges --clean --if-exists --dbname="$DB_URL" | gzip -9 >"$dump"
  fi
  gzip -t "$dump"
  info "PostgreSQL dump: $(du -h "$dump" | cut -f1)"
else
  db_file="$(sqlite_host_file "$DB_URL")"
  [[ "$db_file" == "$DATA_DIR"/* ]] ||
    die "$EXIT_CONFIG" "SQLite database $db_file is outside the data directory $DATA_DIR; point DATABASE_URL into it"
  db_rel="${db_file#"$DATA_DIR"/}"
  if [[ -f "$db_file" ]]; then
    mkdir -p "$(dirname "$STAGE/data/$db_rel")"
    snapshot_sqlite "$db_file" "$STAGE/data/$db_rel"
    sqlite_integrity "$STAGE/data/$db_rel"
    method="SQLite backup API ($(setting ELIZABETH_SQLITE_TOOL auto))"
  else
    warn "no SQLite database at $db_file yet; backing up the directories only"
    method="none (no database file)"
  fi
fi

step "2/4 data directory $DATA_DIR"
excludes=()
if [[ -n "$db_rel" ]]; then
  excludes=(--exclude="./$db_rel" --exclude="./$db_rel-journal" --exclude="./$db_rel-wal" --exclude="./$db_rel-shm")
fi
excludes+=(--exclude='./.backup-*.db')
tar -C "$DATA_DIR" --numeric-owner "${excludes[@]}" -cf - . | tar -C "$STAGE/data" -xf -
written+=("$PREFIX""_data.tar.gz")
tar -C "$STAGE/data" --numeric-owner -czf "$PREFIX""_data.tar.gz" .

step "3/4 storage $STORAGE_DIR"
written+=("$PREFIX""_storage.tar.gz")
if [[ -d "$STORAGE_DIR" ]]; then
  tar -C "$STORAGE_DIR" --numeric-owner -czf "$PREFIX""_storage.tar.gz" .
else
  warn "storage directory $STORAGE_DIR does not exist (S3 storage?); writing an empty archive"
  mkdir -p "$STAGE/empty"
  tar -C "$STAGE/empty" -czf "$PREFIX""_storage.tar.gz" .
fi

step "4/4 configuration, info and checksums"
if [[ -f "$CONFIG_FILE" ]]; then
  written+=("$PREFIX""_config.tar.gz")
  tar -C "$(dirname "$CONFIG_FILE")" --numeric-owner -czf "$PREFIX""_config.tar.gz" "$(basename "$CONFIG_FILE")"
else
  warn "no configuration file at $CONFIG_FILE; skipped"
fi

written+=("$PREFIX""_info.txt")
{
  echo "Elizabeth backup $NAME"
  echo "created: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host: $(hostname)"
  echo "database engine: $engine"
  echo "database method: $method"
  echo "data dir: $DATA_DIR"
  echo "storage dir: $STORAGE_DIR"
  echo "config file: $CONFIG_FILE"
  echo "sqlite database (relative to the data dir): ${db_rel:--}"
  echo "files:"
  for f in "$PREFIX"_*; do
    printf '  %s  %s\n' "$(basename "$f")" "$(du -h "$f" | cut -f1)"
  done
  if ((${#COMPOSE[@]})) || detect_compose 2>/dev/null; then
    echo "compose: $("${COMPOSE[@]}" version 2>/dev/null | head -n1 || true)"
  fi
} >"$STAGE/info.txt"
mv "$STAGE/info.txt" "$PREFIX""_info.txt"

written+=("$PREFIX""_sha256.txt")
shopt -s nullglob
archives=("$PREFIX"_*.tar.gz "$PREFIX"_*.sql.gz)
shopt -u nullglob
(cd "$BACKUP_DIR" && sha256sum -- "${archives[@]##*/}" >"$NAME""_sha256.txt")
finished=1

if ((PRUNE)); then
  find "$BACKUP_DIR" -maxdepth 1 -type f -name 'elizabeth_backup_*' -mtime +"$KEEP_DAYS" -print -delete |
    sed 's/^/[INFO] pruned /' >&2 || true
fi

info "backup written to $BACKUP_DIR:"
du -h "$PREFIX"_* >&2
echo "$NAME"
