#!/usr/bin/env bash
# Build both images and run them in the compose topology with podman, on a machine without a
# Docker engine or registry access (docs/DEPLOYMENT.md, "Verifying the images without Docker").
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
  cat <<'EOF'
Usage: scripts/smoke-images.sh [--rebuild-base] [--keep] [--help]

Proves Dockerfile.backend, Dockerfile.frontend and docker-compose.yml with podman/buildah:
  1. base image: when NODE_IMAGE (default docker.io/library/node:20-bookworm-slim) is not in
     local storage, makes a stand-in with debootstrap (minimal Debian bookworm) plus this
     machine's Node.js 20 and npm, with the `node` user (uid 1000) of the official image
     (--rebuild-base: make it again)
  2. builds both images with `podman build --pull=never` (the npm registry is the only network
     access; the host CA bundle is mounted in for it). better-sqlite3's prebuilt addon comes
     from GitHub in a normal build; here the one compiled in ./node_modules is handed in
     through docker/prebuilt/, and so is the malloc-trim addon (compiled in the image otherwise)
  3. renders docker-compose.yml with `docker-compose config` (a temporary .env with a random
     secret, temporary data directories and free ports) and starts each service with podman
     exactly as rendered: network, user, read-only root, dropped capabilities,
     no-new-privileges, init, tmpfs, mounts, environment, health check
  4. runs the health checks by hand (`podman healthcheck run`), starting the frontend only
     once the backend is healthy (depends_on: service_healthy)
  5. through port 4001 only: creates a room, posts a message, uploads and downloads a file
     (same bytes) and receives the message event over the WebSocket; through 4092: the web
     app and health
  6. checks the processes run as uid 1000 (server) and 1001 (web) on a read-only root
  7. removes the containers, network and temporary files (--keep: leave them running)
Prints image sizes and timings. Needs root, podman, runc, catatonit, debootstrap (for the base),
docker-compose, curl, and `npm ci` done in this repository.

Exit status: 0 all checks passed, 1 a check or step failed, 2 bad usage, 4 a tool is missing.
EOF
}

REBUILD_BASE=0 KEEP=0
while (($#)); do
  case "$1" in
    --rebuild-base) REBUILD_BASE=1; shift ;;
    --keep) KEEP=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done

log() { printf '\n== [%3ss] %s\n' "$((SECONDS))" "$*" >&2; }
fail() {
  printf '[FAIL] %s\n' "$*" >&2
  exit 1
}

for tool in podman runc docker-compose curl node; do
  command -v "$tool" >/dev/null 2>&1 || { echo "[ERROR] $tool is not installed" >&2; exit 4; }
done
# `podman run --init` (compose's `init: true`) runs podman's catatonit
[[ -x /usr/libexec/podman/catatonit ]] ||
  { echo "[ERROR] catatonit is not installed (apt-get install catatonit): podman run --init needs it" >&2; exit 4; }
[[ $(id -u) -eq 0 ]] || { echo "[ERROR] run as root (rootful podman with runc)" >&2; exit 4; }
[[ -d "$ROOT/node_modules/yaml" && -d "$ROOT/node_modules/ws" ]] ||
  { echo "[ERROR] run npm ci in $ROOT first" >&2; exit 4; }

NODE_IMAGE="${NODE_IMAGE:-docker.io/library/node:20-bookworm-slim}"
BACKEND_IMAGE=elizabeth-backend:latest
FRONTEND_IMAGE=elizabeth-frontend:latest
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
# Container limits this environment needs for runc (the defaults exceed what it may set).
PODMAN_RUN=(--runtime runc --ulimit nofile=20000:20000 --ulimit nproc=4096:4096)
WORK="$(mktemp -d /var/tmp/elizabeth-smoke.XXXXXX)"
PREBUILT="$ROOT/docker/prebuilt/better_sqlite3.node"
PREBUILT_TRIM="$ROOT/docker/prebuilt/malloc_trim.node"
NETWORK=elizabeth-network
CONTAINERS=(elizabeth-frontend elizabeth-backend)
started=()

cleanup() {
  local status=$?
  rm -f "$PREBUILT" "$PREBUILT_TRIM"
  if ((status != 0)); then
    for c in "${started[@]}"; do
      echo "--- logs of $c (last 30 lines)" >&2
      podman logs --tail 30 "$c" 2>&1 | grep -v 'systemd' >&2 || true
    done
  fi
  if ((KEEP)); then
    echo "kept: containers ${started[*]:-none}, network $NETWORK, files $WORK" >&2
  else
    for c in "${started[@]}"; do podman rm -f -t 2 "$c" >/dev/null 2>&1 || true; done
    podman network rm "$NETWORK" >/dev/null 2>&1 || true
    rm -rf "$WORK"
  fi
  exit "$status"
}
trap cleanup EXIT

# Refuse to touch containers or a network of the same names that this script did not make.
for c in "${CONTAINERS[@]}"; do
  if podman container exists "$c"; then
    [[ "$(podman inspect -f '{{index .Config.Labels "elizabeth.smoke"}}' "$c")" == 1 ]] ||
      fail "a container named $c exists and is not from a smoke run; remove it first"
    podman rm -f "$c" >/dev/null
  fi
done
if podman network exists "$NETWORK"; then
  [[ "$(podman network inspect -f '{{index .Labels "elizabeth.smoke"}}' "$NETWORK")" == 1 ]] ||
    fail "a network named $NETWORK exists and is not from a smoke run"
  podman network rm "$NETWORK" >/dev/null
fi

# --- 1. base image -------------------------------------------------------------------------------
t0=$SECONDS
if ((REBUILD_BASE)) || ! podman image exists "$NODE_IMAGE"; then
  log "making the stand-in base image $NODE_IMAGE (debootstrap + this machine's Node.js)"
  command -v debootstrap >/dev/null 2>&1 || { echo "[ERROR] debootstrap is not installed" >&2; exit 4; }
  [[ "$(node -p 'process.versions.node.split(".")[0]')" == 20 ]] ||
    fail "the host Node.js is $(node -v); the images are built for Node.js 20"
  rootfs="$WORK/rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >"$WORK/debootstrap.log" 2>&1 ||
    { tail -20 "$WORK/debootstrap.log" >&2; fail "debootstrap failed"; }
  node_bin="$(readlink -f "$(command -v node)")"
  npm_dir="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")"
  install -D -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
  mkdir -p "$rootfs/usr/local/lib/node_modules"
  cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  chroot "$rootfs" sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc "$rootfs"/usr/share/man
  tar -C "$rootfs" -c . | podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["node"]' - "$NODE_IMAGE" >/dev/null
  rm -rf "$rootfs"
else
  log "base image $NODE_IMAGE is present"
fi
t_base=$((SECONDS - t0))

# --- 2. images -----------------------------------------------------------------------------------
cp "$ROOT/node_modules/better-sqlite3/build/Release/better_sqlite3.node" "$PREBUILT"
cp "$ROOT/packages/malloc-trim/build/Release/malloc_trim.node" "$PREBUILT_TRIM"
build() {
  local dockerfile=$1 tag=$2
  podman build --format docker --layers --pull=never "${PODMAN_RUN[@]}" --network host \
    -v "$CA_BUNDLE:$CA_BUNDLE:ro" --build-arg NPM_CAFILE="$CA_BUNDLE" --build-arg NODE_IMAGE="$NODE_IMAGE" \
    -f "$ROOT/$dockerfile" -t "$tag" "$ROOT" >"$WORK/build-${tag%%:*}.log" 2>&1 ||
    { tail -40 "$WORK/build-${tag%%:*}.log" >&2; fail "building $dockerfile failed"; }
}
t0=$SECONDS
log "building $BACKEND_IMAGE"
build Dockerfile.backend "$BACKEND_IMAGE"
t_backend=$((SECONDS - t0))
t0=$SECONDS
log "building $FRONTEND_IMAGE"
build Dockerfile.frontend "$FRONTEND_IMAGE"
t_frontend=$((SECONDS - t0))
rm -f "$PREBUILT" "$PREBUILT_TRIM"

# --- 3. render the compose file and start the services ------------------------------------------
t0=$SECONDS
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
BACKEND_PORT="$(free_port)"
FRONTEND_PORT="$(free_port)"
mkdir -p "$WORK/data" "$WORK/storage/rooms"
chown -R 1000:1000 "$WORK/data" "$WORK/storage"
{
  grep -v -E '^(JWT_SECRET|BACKEND_PORT|FRONTEND_PORT|PUBLISH_ADDR|ELIZABETH_DATA_DIR|ELIZABETH_STORAGE_DIR|ELIZABETH_BACKEND_CONFIG)=' "$ROOT/.env.docker"
  echo "JWT_SECRET=$(node -p 'require("crypto").randomBytes(32).toString("hex")')"
  echo "BACKEND_PORT=$BACKEND_PORT"
  echo "FRONTEND_PORT=$FRONTEND_PORT"
  echo "PUBLISH_ADDR=127.0.0.1"
  echo "ELIZABETH_DATA_DIR=$WORK/data"
  echo "ELIZABETH_STORAGE_DIR=$WORK/storage"
  echo "ELIZABETH_BACKEND_CONFIG=$ROOT/docker/backend/config/backend.yaml"
} >"$WORK/.env"
(cd "$ROOT" && docker-compose --env-file "$WORK/.env" -f docker-compose.yml config) >"$WORK/compose.yml" ||
  fail "docker-compose config failed"

# podman_args SERVICE: one argument per line for `podman run`, from the rendered compose file.
podman_args() {
  # shellcheck disable=SC2016 # JavaScript template literals, not shell expansions
  (cd "$ROOT" && node --input-type=module -e '
    import { readFileSync } from "node:fs";
    import { parse } from "yaml";
    const compose = parse(readFileSync(process.argv[1], "utf8"));
    const s = compose.services[process.argv[2]];
    const out = ["--name", s.container_name, "--label", "elizabeth.smoke=1"];
    for (const net of Object.keys(s.networks ?? {})) out.push("--network", compose.networks[net].name ?? net, "--network-alias", process.argv[2]);
    if (s.user) out.push("--user", String(s.user));
    if (s.read_only) out.push("--read-only");
    if (s.init) out.push("--init");
    for (const cap of s.cap_drop ?? []) out.push("--cap-drop", cap);
    for (const opt of s.security_opt ?? []) out.push("--security-opt", opt.replace(":true", ""));
    for (const t of s.tmpfs ?? []) out.push("--tmpfs", t);
    for (const p of s.ports ?? []) out.push("-p", typeof p === "string" ? p : `${p.host_ip ? p.host_ip + ":" : ""}${p.published}:${p.target}`);
    for (const v of s.volumes ?? []) out.push("-v", typeof v === "string" ? v : `${v.source}:${v.target}${v.read_only ? ":ro" : ""}`);
    for (const [k, v] of Object.entries(s.environment ?? {})) out.push("-e", `${k}=${v ?? ""}`);
    const hc = s.healthcheck;
    // podman 4.3 takes the command as one shell string (it stores a JSON array verbatim)
    const q = String.fromCharCode(39);
    const quote = (a) => q + a.split(q).join(q + "\\" + q + q) + q;
    const cmd = hc && (hc.test[0] === "CMD-SHELL" ? hc.test[1] : hc.test.slice(1).map(quote).join(" "));
    if (hc) out.push("--health-cmd", cmd, "--health-interval", hc.interval, "--health-timeout", hc.timeout, "--health-retries", String(hc.retries), "--health-start-period", hc.start_period);
    out.push(s.image);
    process.stdout.write(out.join("\n") + "\n");
  ' "$WORK/compose.yml" "$1")
}

wait_healthy() {
  local c=$1 i
  for ((i = 1; i <= 30; i++)); do
    if podman healthcheck run "$c" >/dev/null 2>&1; then
      echo "   $c healthy after $i check(s)" >&2
      return 0
    fi
    sleep 2
  done
  fail "$c did not become healthy"
}

podman network create --label elizabeth.smoke=1 "$NETWORK" >/dev/null
for service in backend frontend; do
  mapfile -t args < <(podman_args "$service")
  log "starting $service: podman run ${args[*]//JWT_SECRET=*/JWT_SECRET=…}"
  podman run -d "${PODMAN_RUN[@]}" "${args[@]}" >/dev/null 2> >(grep -v systemd >&2)
  started+=("elizabeth-$service")
  # depends_on: backend: condition: service_healthy
  wait_healthy "elizabeth-$service"
done
t_start=$((SECONDS - t0))

# --- 5. the app through port 4001 and 4092 -------------------------------------------------------
log "checks through http://127.0.0.1:$FRONTEND_PORT (frontend) and :$BACKEND_PORT (backend)"
[[ "$(curl -fsS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$BACKEND_PORT/")" == 200 ]] ||
  fail "the backend does not serve the web app on /"
curl -fsS "http://127.0.0.1:$BACKEND_PORT/api/v1/health" | grep -q '"status":"ok"' || fail "backend health"
# shellcheck disable=SC2016 # JavaScript template literals, not shell expansions
(cd "$ROOT" && node --input-type=module -e '
  import { createHash, randomBytes } from "node:crypto";
  import WebSocket from "ws";
  const origin = `http://127.0.0.1:${process.argv[1]}`;
  const api = `${origin}/api/v1`;
  const room = `smoke-${Date.now()}`;
  const must = async (res, status, what) => {
    if (res.status !== status) throw new Error(`${what}: HTTP ${res.status} ${await res.text()}`);
    return res.json();
  };
  const page = await fetch(`${origin}/${room}`);
  if (page.status !== 200 || !(await page.text()).includes("<html")) throw new Error("the room page is not served on 4001");
  await must(await fetch(`${api}/rooms/${room}`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }), 201, "create room");
  const { token } = await must(await fetch(`${api}/rooms/${room}/tokens`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }), 200, "enter room");
  const auth = { authorization: `Bearer ${token}` };
  const ws = new WebSocket(`ws://127.0.0.1:${process.argv[1]}/api/v1/ws`);
  const frames = [];
  const waitFor = (type) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} frame over the WebSocket`)), 10000);
    const check = () => { const f = frames.find((x) => x.message_type === type); if (f) { clearTimeout(timer); resolve(f); } else setTimeout(check, 50); };
    check();
  });
  ws.on("message", (data) => frames.push(JSON.parse(String(data))));
  await new Promise((resolve, reject) => { ws.once("open", resolve); ws.once("error", reject); });
  ws.send(JSON.stringify({ message_type: "connect", payload: { token, room_name: room } }));
  await waitFor("connect_ack");
  const text = "hello from the container smoke test";
  const posted = await must(await fetch(`${api}/rooms/${room}/messages`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify({ text }) }), 201, "post message");
  const event = await waitFor("content_created");
  if (event.payload.content.text !== text) throw new Error("the WebSocket event carries another message");
  const bytes = randomBytes(300_000);
  const form = new FormData();
  form.append("file", new Blob([bytes]), "smoke.bin");
  const up = await must(await fetch(`${api}/rooms/${room}/contents`, { method: "POST", headers: auth, body: form }), 201, "upload");
  const id = up.uploaded[0].id;
  const down = Buffer.from(await (await fetch(`${api}/contents/${id}`, { headers: auth })).arrayBuffer());
  const sha = (b) => createHash("sha256").update(b).digest("hex");
  if (sha(down) !== sha(bytes)) throw new Error("the downloaded file differs from the uploaded one");
  const list = await must(await fetch(`${api}/rooms/${room}/messages?limit=10`, { headers: auth }), 200, "list messages");
  if (!JSON.stringify(list).includes(text)) throw new Error("the message is not listed");
  ws.close();
  console.log(`   room ${room}: message ${posted.message.id} posted and pushed over the WebSocket, file ${id} (${bytes.length} bytes) round-tripped`);
' "$FRONTEND_PORT") || fail "the app does not work through port $FRONTEND_PORT"

# --- 6. users and read-only root -----------------------------------------------------------------
log "process users and read-only root"
check_container() {
  local c=$1 uid=$2 name=$3 users
  [[ "$(podman inspect -f '{{.HostConfig.ReadonlyRootfs}}' "$c")" == true ]] || fail "$c: root is not read-only"
  [[ "$(podman exec "$c" id -u)" == "$uid" ]] || fail "$c: exec runs as uid $(podman exec "$c" id -u), not $uid"
  users="$(podman top "$c" user | tail -n +2 | sort -u | tr -d ' ')"
  [[ "$users" == "$name" ]] || fail "$c: processes run as '$users', not only $name"
  if podman exec "$c" sh -c 'touch /app/probe' 2>/dev/null; then fail "$c: /app is writable"; fi
  podman exec "$c" sh -c 'touch /tmp/probe' || fail "$c: /tmp (tmpfs) is not writable"
  echo "   $c: every process runs as $name (uid $uid); / is read-only, /tmp writable" >&2
}
check_container elizabeth-backend 1000 elizabeth
podman exec elizabeth-backend node -e "process.exit(require('/app/node_modules/@elizabeth/malloc-trim').trim ? 0 : 1)" ||
  fail "elizabeth-backend: the malloc-trim addon does not load in the image"
echo "   elizabeth-backend: the malloc-trim addon loads" >&2
check_container elizabeth-frontend 1001 nextjs
[[ -f "$WORK/data/elizabeth.db" && "$(stat -c %u "$WORK/data/elizabeth.db")" == 1000 ]] ||
  fail "the database was not created in the bind-mounted data directory as uid 1000"

size() { podman image inspect -f '{{.Size}}' "$1" | awk '{printf "%.0f MB", $1/1000000}'; }
log "passed"
cat >&2 <<EOF
   images: $BACKEND_IMAGE $(size "$BACKEND_IMAGE"), $FRONTEND_IMAGE $(size "$FRONTEND_IMAGE"), base $NODE_IMAGE $(size "$NODE_IMAGE")
   timings: base ${t_base}s, backend build ${t_backend}s, frontend build ${t_frontend}s, start+health ${t_start}s, total ${SECONDS}s
EOF
