# Elizabeth task runner (https://just.systems). `just` lists the recipes; the Makefile offers the
# same targets for machines without just. Docker recipes read .env (copy .env.docker).

set dotenv-load := true
set shell := ["bash", "-euo", "pipefail", "-c"]

docker := env_var_or_default("DOCKER", "docker")
compose := env_var_or_default("COMPOSE", "docker compose")
backend_image := env_var_or_default("ELIZABETH_BACKEND_IMAGE", "elizabeth-backend:latest")
frontend_image := env_var_or_default("ELIZABETH_FRONTEND_IMAGE", "elizabeth-frontend:latest")

# list the recipes
default:
    @just --list

# --- development -------------------------------------------------------------------------------

alias i := install
alias d := dev
alias b := build
alias s := start
alias t := test
alias c := check
alias l := lint
alias f := format

# install the dependencies exactly as locked
install:
    npm ci

# server with reload on 127.0.0.1:4092 (web app: `npm run dev -w @elizabeth/web`, port 4001)
dev:
    npm run dev

# build protocol, server and the static web app
build:
    npm run build

# build what is missing, then serve everything on http://127.0.0.1:4092
start *ARGS:
    npm start -- {{ARGS}}

# the test suites (PostgreSQL/Redis/S3/browser suites need their services, see README)
test *ARGS:
    npm test -- {{ARGS}}

# format check, lint, type check and tests
check:
    npm run check

lint:
    npm run lint

typecheck:
    npm run typecheck

format:
    npm run format

# benchmarks (docs/BENCHMARKS.md)
bench:
    npm run bench

# --- Docker images (the stages of Dockerfile.backend / Dockerfile.frontend) -------------------

alias dbc := docker-backend-cache
alias dfc := docker-frontend-cache
alias dbb := docker-backend-binary
alias dfb := docker-frontend-binary
alias dbi := docker-backend-image
alias dfi := docker-frontend-image

# backend dependency layer (npm ci), cached for later builds
docker-backend-cache:
    @echo "🐳 backend: dependency stage"
    {{docker}} build --target deps -f Dockerfile.backend -t elizabeth-backend-cache:latest .

# frontend dependency layer (npm ci), cached for later builds
docker-frontend-cache:
    @echo "🐳 frontend: dependency stage"
    {{docker}} build --target deps -f Dockerfile.frontend -t elizabeth-frontend-cache:latest .

# backend build stage (tsc + static web export)
docker-backend-binary:
    @echo "🔨 backend: build stage"
    {{docker}} build --target build -f Dockerfile.backend -t elizabeth-backend-builder:latest .

# frontend build stage (Next.js standalone)
docker-frontend-binary:
    @echo "🔨 frontend: build stage"
    {{docker}} build --target builder -f Dockerfile.frontend -t elizabeth-frontend-builder:latest .

# the backend runtime image
docker-backend-image:
    @echo "📦 backend: runtime image {{backend_image}}"
    {{docker}} build --target runtime -f Dockerfile.backend -t {{backend_image}} .

# the frontend runtime image
docker-frontend-image:
    @echo "📦 frontend: runtime image {{frontend_image}}"
    {{docker}} build --target runner -f Dockerfile.frontend -t {{frontend_image}} .

# --- Docker Compose ----------------------------------------------------------------------------

alias dbu := docker-backend-up
alias dfu := docker-frontend-up
alias dbs := docker-backend-stop
alias dfs := docker-frontend-stop
alias dbr := docker-backend-recreate
alias dfr := docker-frontend-recreate
alias du := docker-up
alias dd := docker-down
alias dl := docker-logs

# prepare the bind mounts and start the backend
docker-backend-up:
    @echo "🚀 backend: up"
    ./scripts/docker_prepare_volumes.sh
    {{compose}} up -d backend

# start the frontend (after the backend)
docker-frontend-up: docker-backend-up
    @echo "🚀 frontend: up"
    {{compose}} up -d frontend

docker-backend-stop:
    @echo "🛑 backend: stop"
    {{compose}} stop backend

docker-frontend-stop:
    @echo "🛑 frontend: stop"
    {{compose}} stop frontend

# recreate the backend container (new image or settings)
docker-backend-recreate:
    @echo "♻️ backend: recreate"
    ./scripts/docker_prepare_volumes.sh
    {{compose}} up -d --force-recreate backend

# recreate the frontend container (after the backend)
docker-frontend-recreate: docker-backend-recreate
    @echo "♻️ frontend: recreate"
    {{compose}} up -d --force-recreate frontend

# build and start the whole stack
docker-up:
    ./scripts/docker_prepare_volumes.sh
    {{compose}} up -d --build

# the whole stack on PostgreSQL
docker-up-pg:
    ./scripts/docker_prepare_volumes.sh
    {{compose}} -f docker-compose.yml -f docker-compose.postgres.yml up -d --build

docker-down:
    {{compose}} down --remove-orphans

docker-logs:
    {{compose}} logs -f

# --- operations --------------------------------------------------------------------------------

# checks, backup, build, start, wait for health (scripts/deploy.sh)
deploy *ARGS:
    ./scripts/deploy.sh {{ARGS}}

# timestamped backup into ./backups (scripts/backup.sh)
backup *ARGS:
    ./scripts/backup.sh {{ARGS}}

# restore a backup: just restore elizabeth_backup_YYYYmmdd_HHMMSS
restore NAME *ARGS:
    ./scripts/restore.sh {{ARGS}} {{NAME}}

# copy the SQLite database into PostgreSQL: just migrate-to-postgres postgres://…
migrate-to-postgres URL:
    ./scripts/migrate_to_postgres.sh --to {{URL}}

# build and run both images with podman, no Docker needed (scripts/smoke-images.sh)
smoke-images:
    ./scripts/smoke-images.sh
