# Elizabeth: the targets of the justfile, for machines without `just`. `make help` lists them.
# Docker targets take DOCKER, COMPOSE and the image names from the environment or the command
# line (make docker-up COMPOSE=docker-compose); compose itself reads .env.

DOCKER ?= docker
COMPOSE ?= docker compose
ELIZABETH_BACKEND_IMAGE ?= elizabeth-backend:latest
ELIZABETH_FRONTEND_IMAGE ?= elizabeth-frontend:latest
ARGS ?=

SHELL := bash
.SHELLFLAGS := -euo pipefail -c

DEV_TARGETS := install dev build start test check lint typecheck format bench
DOCKER_TARGETS := docker-backend-cache docker-frontend-cache docker-backend-binary docker-frontend-binary \
	docker-backend-image docker-frontend-image docker-backend-up docker-frontend-up docker-backend-stop \
	docker-frontend-stop docker-backend-recreate docker-frontend-recreate docker-up docker-up-pg docker-down \
	docker-logs
OPS_TARGETS := deploy backup restore migrate-to-postgres smoke-images
ALIASES := i d b s t c l f dbc dfc dbb dfb dbi dfi dbu dfu dbs dfs dbr dfr du dd dl

.PHONY: help $(DEV_TARGETS) $(DOCKER_TARGETS) $(OPS_TARGETS) $(ALIASES)
.DEFAULT_GOAL := help

help:
	@echo "Development: $(DEV_TARGETS)"
	@echo "Docker:      $(DOCKER_TARGETS)"
	@echo "Operations:  $(OPS_TARGETS)"
	@echo "Aliases:     i d b s t c l f (install dev build start test check lint format)"
	@echo "             dbc dfc dbb dfb dbi dfi dbu dfu dbs dfs dbr dfr (docker-{backend,frontend}-{cache,binary,image,up,stop,recreate})"
	@echo "             du dd dl (docker-up docker-down docker-logs)"
	@echo "Examples:    make test ARGS=apps/server/test/ops   make restore BACKUP=elizabeth_backup_20260101_120000"

# --- development -------------------------------------------------------------------------------
install:
	npm ci
dev:
	npm run dev
build:
	npm run build
start:
	npm start -- $(ARGS)
test:
	npm test -- $(ARGS)
check:
	npm run check
lint:
	npm run lint
typecheck:
	npm run typecheck
format:
	npm run format
bench:
	npm run bench

# --- Docker images -----------------------------------------------------------------------------
docker-backend-cache:
	@echo "🐳 backend: dependency stage"
	$(DOCKER) build --target deps -f Dockerfile.backend -t elizabeth-backend-cache:latest .
docker-frontend-cache:
	@echo "🐳 frontend: dependency stage"
	$(DOCKER) build --target deps -f Dockerfile.frontend -t elizabeth-frontend-cache:latest .
docker-backend-binary:
	@echo "🔨 backend: build stage"
	$(DOCKER) build --target build -f Dockerfile.backend -t elizabeth-backend-builder:latest .
docker-frontend-binary:
	@echo "🔨 frontend: build stage"
	$(DOCKER) build --target builder -f Dockerfile.frontend -t elizabeth-frontend-builder:latest .
docker-backend-image:
	@echo "📦 backend: runtime image $(ELIZABETH_BACKEND_IMAGE)"
	$(DOCKER) build --target runtime -f Dockerfile.backend -t $(ELIZABETH_BACKEND_IMAGE) .
docker-frontend-image:
	@echo "📦 frontend: runtime image $(ELIZABETH_FRONTEND_IMAGE)"
	$(DOCKER) build --target runner -f Dockerfile.frontend -t $(ELIZABETH_FRONTEND_IMAGE) .

# --- Docker Compose ----------------------------------------------------------------------------
docker-backend-up:
	@echo "🚀 backend: up"
	./scripts/docker_prepare_volumes.sh
	$(COMPOSE) up -d backend
docker-frontend-up: docker-backend-up
	@echo "🚀 frontend: up"
	$(COMPOSE) up -d frontend
docker-backend-stop:
	@echo "🛑 backend: stop"
	$(COMPOSE) stop backend
docker-frontend-stop:
	@echo "🛑 frontend: stop"
	$(COMPOSE) stop frontend
docker-backend-recreate:
	@echo "♻️ backend: recreate"
	./scripts/docker_prepare_volumes.sh
	$(COMPOSE) up -d --force-recreate backend
docker-frontend-recreate: docker-backend-recreate
	@echo "♻️ frontend: recreate"
	$(COMPOSE) up -d --force-recreate frontend
docker-up:
	./scripts/docker_prepare_volumes.sh
	$(COMPOSE) up -d --build
docker-up-pg:
	./scripts/docker_prepare_volumes.sh
	$(COMPOSE) -f docker-compose.yml -f docker-compose.postgres.yml up -d --build
docker-down:
	$(COMPOSE) down --remove-orphans
docker-logs:
	$(COMPOSE) logs -f

# --- operations --------------------------------------------------------------------------------
deploy:
	./scripts/deploy.sh $(ARGS)
backup:
	./scripts/backup.sh $(ARGS)
restore:
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=elizabeth_backup_YYYYmmdd_HHMMSS [ARGS=--yes]"; ./scripts/restore.sh --list; exit 2; }
	./scripts/restore.sh $(ARGS) $(BACKUP)
migrate-to-postgres:
	@test -n "$(URL)" || { echo "usage: make migrate-to-postgres URL=postgres://user:pass@host:5432/db"; exit 2; }
	./scripts/migrate_to_postgres.sh --to $(URL)
smoke-images:
	./scripts/smoke-images.sh

# --- aliases (the justfile's) ------------------------------------------------------------------
i: install
d: dev
b: build
s: start
t: test
c: check
l: lint
f: format
dbc: docker-backend-cache
dfc: docker-frontend-cache
dbb: docker-backend-binary
dfb: docker-frontend-binary
dbi: docker-backend-image
dfi: docker-frontend-image
dbu: docker-backend-up
dfu: docker-frontend-up
dbs: docker-backend-stop
dfs: docker-frontend-stop
dbr: docker-backend-recreate
dfr: docker-frontend-recreate
du: docker-up
dd: docker-down
dl: docker-logs
