import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { constants as zlib } from 'node:zlib';

import compress from '@fastify/compress';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import type { Locker } from '@tus/server';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import pino from 'pino';

import type { AppConfig } from './config/types.js';
import type { Database } from './db/index.js';
import { installNoStoreForJson } from './http/cache-control.js';
import { installRequestLog } from './http/request-log.js';
import { installJsonBodyLimits } from './http/json-body.js';
import { installConnectionLimits } from './http/connection-limits.js';
import { RoomCreationLimit } from './http/room-creation-limit.js';
import { installUnreadBodyGuard } from './http/unread-body.js';
import { installErrorHandling, sendError, toAppError } from './http/error-handler.js';
import { redisRateLimitOptions, sharedStateUrls } from './http/rate-limit-store.js';
import { lazyCompilersFactory } from './http/lazy-compilers.js';
import { registerOpenApi } from './http/openapi.js';
import { installSecurityHeaders } from './http/security-headers.js';
import { DEFAULT_WEB_ROOT, registerWebApp } from './http/web-app.js';
import { AttemptLimiter } from './lib/attempt-limiter.js';
import { type Clock, systemClock } from './lib/clock.js';
import { AppError } from './lib/errors.js';
import { PasswordHasher } from './lib/password.js';
import { RedisLink } from './lib/redis-link.js';
import { SharedAttemptLimiter } from './lib/shared-attempt-limiter.js';
import { Lifecycle, type ReservationReleaser } from './jobs/lifecycle.js';
import { sweepOrphans } from './jobs/orphan-sweep.js';
import { adminRoutes } from './modules/admin/admin.routes.js';
import { AdminService } from './modules/admin/admin.service.js';
import { contentsRoutes } from './modules/contents/contents.routes.js';
import { ContentsService } from './modules/contents/contents.service.js';
import { AppMetrics, UNMATCHED_ROUTE } from './modules/metrics/app-metrics.js';
import { metricsRoutes } from './modules/metrics/metrics.routes.js';
import { roomsRoutes } from './modules/rooms/rooms.routes.js';
import { RoomsService } from './modules/rooms/rooms.service.js';
import { SessionAuthenticator } from './modules/sessions/session-auth.js';
import { sessionsRoutes } from './modules/sessions/sessions.routes.js';
import { SessionsService } from './modules/sessions/sessions.service.js';
import { TokenSigner } from './modules/sessions/token-signer.js';
import { shareLinksRoutes } from './modules/share-links/share-links.routes.js';
import { ShareLinksService } from './modules/share-links/share-links.service.js';
import { RedisLocker } from './modules/uploads/redis-locker.js';
import { releaseAbandonedReservations, releaseExpiredReservations } from './modules/uploads/reservations.js';
import { TusHandler } from './modules/uploads/tus-handler.js';
import { uploadsRoutes } from './modules/uploads/uploads.routes.js';
import { UploadsService } from './modules/uploads/uploads.service.js';
import { systemRoutes } from './modules/system/system.routes.js';
import { SystemService } from './modules/system/system.service.js';
import type { EventBus } from './realtime/events.js';
import { RealtimeGateway } from './realtime/realtime-gateway.js';
import { createBackplane } from './realtime/realtime.js';
import { registerWebSocketRoute } from './realtime/ws.routes.js';
import { BlobReaper } from './storage/blob-reaper.js';
import type { BlobStorage } from './storage/blob-storage.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The lifecycle pass of this app; `main.ts` schedules it. */
    lifecycle: Lifecycle;
    /**
     * Gives back the one-shot uploads this server's previous incarnation was streaming when it
     * died; `main.ts` runs it once the server listens. Resolves to how many were released.
     */
    releaseAbandonedUploads: () => Promise<number>;
  }
}

export interface AppDeps {
  config: AppConfig;
  database: Database;
  storage: BlobStorage;
  clock?: Clock;
  /** Domain events for the realtime layer; by default in-process, or Redis with `realtime.redis_url`. */
  events?: EventBus;
  /**
   * Namespaces the Redis channels and keys the app uses (events, presence, rate limits,
   * password failures, upload locks); tests use one per file.
   */
  realtimePrefix?: string;
  /**
   * The tus upload locker; by default a Redis one with `realtime.redis_url` (locks across
   * instances), else @tus/server's in-process one.
   */
  tusLocker?: Locker;
  /**
   * Who streams this app's one-shot uploads (`upload_reservations.owner`): by default host,
   * address and port, the same for the next incarnation of this server and for no other live
   * server (only one process listens on an address and port).
   */
  instanceId?: string;
  /** Hashes and verifies room passwords; tests pass one to count the work. */
  passwords?: PasswordHasher;
  /** The uploads module's expired-reservation step for the lifecycle pass. */
  releaseExpiredReservations?: ReservationReleaser;
  /** The process logger; tests omit it and get a silent one. */
  logger?: FastifyBaseLogger;
  startedAt?: number;
}

/** Headers a cross-origin client (tus-js-client above all) must be able to read. */
const EXPOSED_HEADERS = [
  'X-Request-Id',
  'Retry-After',
  'Content-Disposition',
  'Location',
  'Upload-Offset',
  'Upload-Length',
  'Upload-Metadata',
  'Upload-Expires',
  'Tus-Version',
  'Tus-Resumable',
  'Tus-Max-Size',
  'Tus-Extension',
];

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * `trusted_proxies`: [] → trust nothing; ['true'] → trust every hop; ['2'] → trust that many
 * hops; else addresses, CIDRs or proxy-addr names (`loopback`, …).
 */
export function trustProxySetting(
  list: string[],
): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (list.length === 0) return false;
  if (list.length === 1) {
    const only = list[0]!.trim().toLowerCase();
    if (only === 'true') return true;
    if (only === 'false') return false;
    if (/^\d+$/.test(only)) {
      const hops = Number(only);
      return (_address, hop) => hop < hops;
    }
  }
  return list;
}

/**
 * The composition root: builds the Fastify app from its dependencies, wires plugins, error
 * handling and module routes. It never listens, so tests drive it with `app.inject()`.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const clock = deps.clock ?? systemClock;
  const requestId = config.middleware.request_id;
  const requestIdHeader = requestId.header_name.toLowerCase();

  const app = Fastify({
    loggerInstance: deps.logger ?? pino({ level: 'silent' }),
    bodyLimit: config.server.body_limit,
    trustProxy: trustProxySetting(config.middleware.trusted_proxies),
    // Fastify's own request logging writes two lines per request; `installRequestLog` writes one.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    routerOptions: { maxParamLength: 1024 },
    // The zod compilers below replace Fastify's ajv ones: load those only if ever asked for.
    schemaController: { compilersFactory: lazyCompilersFactory },
    // Errors raised before routing (e.g. a URL that does not decode) bypass the error handler.
    frameworkErrors: (error, _request, reply) => {
      void sendError(reply, toAppError(error));
    },
    genReqId(req) {
      const incoming = requestId.enabled ? req.headers[requestIdHeader] : undefined;
      if (typeof incoming === 'string' && REQUEST_ID.test(incoming)) return incoming;
      return randomUUID();
    },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // The web app registers last (its static routes must not shadow the API); the 404 handler
  // reaches it through this holder.
  const web: { serve?: (request: FastifyRequest, reply: FastifyReply) => unknown } = {};
  installErrorHandling(app, { fallback: (request, reply) => web.serve?.(request, reply) });
  installSecurityHeaders(app, config.middleware.security);
  installNoStoreForJson(app);
  installUnreadBodyGuard(app);
  installConnectionLimits(app, config.server, config.middleware.trusted_proxies);
  installJsonBodyLimits(app, config.server.public_body_limit);
  if (config.middleware.tracing.enabled) installRequestLog(app, config.middleware.tracing.level);

  if (requestId.enabled) {
    app.addHook('onSend', (request, reply, payload, done) => {
      const echoed = typeof request.headers[requestIdHeader] === 'string';
      if (echoed || requestId.generate_if_missing) reply.header(requestId.header_name, request.id);
      done(null, payload);
    });
  }

  const corsConfig = config.middleware.cors;
  if (corsConfig.enabled) {
    await app.register(cors, {
      origin: corsConfig.allowed_origins.includes('*') ? '*' : corsConfig.allowed_origins,
      methods: corsConfig.allowed_methods,
      ...(corsConfig.allowed_headers.includes('*') ? {} : { allowedHeaders: corsConfig.allowed_headers }),
      credentials: corsConfig.allow_credentials,
      maxAge: corsConfig.max_age,
      exposedHeaders: [...new Set([...corsConfig.expose_headers, ...EXPOSED_HEADERS])],
    });
  }

  const compression = config.middleware.compression;
  if (compression.enabled) {
    await app.register(compress, {
      global: true,
      threshold: compression.min_content_length,
      encodings: ['br', 'gzip'],
      // Quality 11 (the default) costs ~10× the CPU of 4 for a few percent; responses are live.
      brotliOptions: { params: { [zlib.BROTLI_PARAM_QUALITY]: 4 } },
    });
  }

  // State the instances share besides realtime events: one pair of connections per Redis URL.
  const sharedUrls = sharedStateUrls(config);
  const sharedPrefix = deps.realtimePrefix ?? 'elizabeth';
  const links = new Map<string, RedisLink>();
  const linkTo = (url: string) => {
    let link = links.get(url);
    if (!link) {
      link = new RedisLink(url, app.log);
      links.set(url, link);
    }
    return link;
  };
  app.addHook('onClose', async () => {
    await Promise.all([...links.values()].map((link) => link.close()));
  });

  const limits = config.middleware.rate_limit;
  if (limits.enabled) {
    // A fixed window holding `burst_size` requests that refills at `per_second` on average.
    const windowMs = Math.max(1000, Math.ceil((limits.burst_size / limits.per_second) * 1000));
    await app.register(rateLimit, {
      global: true,
      max: limits.burst_size,
      timeWindow: windowMs,
      // tus PATCH requests carry upload data in chunks: bounded by bytes, not by count.
      allowList: (request) =>
        !request.url.startsWith('/api/') || (request.method === 'PATCH' && request.url.includes('/uploads/')),
      keyGenerator: (request) => request.ip,
      ...(sharedUrls.limits ? redisRateLimitOptions(linkTo(sharedUrls.limits), sharedPrefix) : {}),
      errorResponseBuilder: (_request, context) =>
        new AppError('RATE_LIMITED', `Too many requests; retry in ${context.after}`, {
          headers: { 'Retry-After': String(Math.max(1, Math.ceil(context.ttl / 1000))) },
        }),
    });
  }

  const metrics = config.metrics.enabled ? new AppMetrics() : undefined;
  if (metrics) {
    app.addHook('onResponse', (request, reply, done) => {
      const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
      metrics.observeRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
  }

  await registerOpenApi(app);

  if (config.jwt.secret.length < 32) {
    throw new Error('buildApp needs the resolved JWT secret (resolveJwtSecret) of at least 32 characters');
  }
  const db = deps.database.db;
  const backplane = createBackplane(config.realtime, {
    ...(deps.events ? { events: deps.events } : {}),
    ...(deps.realtimePrefix ? { prefix: deps.realtimePrefix } : {}),
    logger: app.log,
  });
  const events = backplane.events;
  const signer = new TokenSigner(config.jwt.secret, config.jwt.leeway_seconds, clock);
  const authenticator = new SessionAuthenticator({ db, signer, clock });
  const blobs = new BlobReaper({ db, storage: deps.storage, logger: app.log });

  const gateway = new RealtimeGateway({
    config: config.realtime,
    authenticator,
    events,
    presence: backplane.presence,
    clock,
    logger: app.log,
  });
  gateway.start();
  backplane.onReconnect(() => gateway.resyncPresence());
  // Runs after the websocket plugin's preClose has closed every socket.
  app.addHook('onClose', async () => backplane.close());
  await registerWebSocketRoute(app, gateway);

  const system = new SystemService({
    config,
    database: deps.database,
    storage: deps.storage,
    clock,
    startedAt: deps.startedAt ?? clock.now(),
    realtimeStats: () => {
      const bus = backplane.status();
      return { ...gateway.stats(), bus: bus.kind, bus_connected: bus.connected };
    },
  });
  await app.register(systemRoutes, { system });

  const lifecycle = new Lifecycle({
    database: deps.database,
    config,
    clock,
    events,
    blobs,
    logger: app.log,
    releaseExpiredReservations:
      deps.releaseExpiredReservations ??
      ((now, limit) => releaseExpiredReservations({ db, blobs }, now, limit)),
    sweepOrphans: (olderThan) => sweepOrphans({ db, storage: deps.storage, logger: app.log }, olderThan),
    ...(metrics ? { observer: metrics } : {}),
  });
  app.decorate('lifecycle', lifecycle);
  if (config.admin.token) {
    const admin = new AdminService({ db, clock, events, blobs, presence: backplane.presence, lifecycle });
    await app.register(adminRoutes, { admin, token: config.admin.token });
  }
  if (metrics) {
    await app.register(metricsRoutes, {
      metrics,
      db,
      clock,
      token: config.metrics.token,
      openSockets: () => gateway.stats().connections,
    });
  }
  const passwords = deps.passwords ?? new PasswordHasher(config.auth.password_hashing);
  const rooms = new RoomsService({ db, config, clock, events, blobs, passwords });
  const attemptLimits = {
    windowMs: config.auth.password_attempts.window_seconds * 1000,
    backoffMaxMs: config.auth.password_attempts.backoff_max_seconds * 1000,
  };
  const passwordAttempts = sharedUrls.limits
    ? new SharedAttemptLimiter(clock, attemptLimits, linkTo(sharedUrls.limits), sharedPrefix)
    : new AttemptLimiter(clock, attemptLimits);
  const sessions = new SessionsService({
    db,
    config,
    clock,
    events,
    signer,
    authenticator,
    passwordAttempts,
    passwords,
    isConnected: (jti) => gateway.isConnected(jti),
  });
  const creation = config.room.creation_limit;
  const creationLimit = new RoomCreationLimit(clock, creation.max, creation.window_seconds * 1000);
  await app.register(roomsRoutes, { rooms, sessions, authenticator, creationLimit });
  await app.register(sessionsRoutes, { sessions, authenticator });

  const storage = deps.storage;
  const contents = new ContentsService({ db, config, clock, events, storage, blobs, authenticator });
  const shareLinks = new ShareLinksService({
    db,
    config,
    clock,
    events,
    sessions,
    passwords,
    passwordAttempts,
    burn: (room, ids) => contents.remove(room, ids),
    logger: app.log,
  });
  await app.register(shareLinksRoutes, { links: shareLinks, authenticator });
  await app.register(contentsRoutes, {
    contents,
    authenticator,
    storage,
    accelRedirect: config.storage.local.accel_redirect,
    presignSeconds: config.storage.s3.presign_downloads_seconds,
    beginLinkDownload: (auth, method) => shareLinks.beginDownload(auth, method),
  });
  const builtAt = clock.now();
  const owner = deps.instanceId ?? `${hostname()}:${config.server.addr}:${config.server.port}`;
  const uploads = new UploadsService({ db, config, clock, events, storage, blobs, owner });
  app.decorate('releaseAbandonedUploads', () =>
    releaseAbandonedReservations({ db, blobs }, owner, builtAt, clock.now()),
  );
  const tusLocker = (): { locker?: Locker } => {
    if (deps.tusLocker) return { locker: deps.tusLocker };
    if (!sharedUrls.locks) return {};
    return { locker: new RedisLocker(linkTo(sharedUrls.locks), { prefix: sharedPrefix, logger: app.log }) };
  };
  const tus = new TusHandler({
    uploads,
    binding: () => storage.createTusStore({ expirationMs: config.upload.reservation_ttl_seconds * 1000 }),
    maxFileSize: config.upload.max_file_size,
    publicUrl: config.server.public_url,
    ...tusLocker(),
  });
  await app.register(uploadsRoutes, { uploads, tus, authenticator, config });

  web.serve = await registerWebApp(app, {
    root: config.server.web_root || DEFAULT_WEB_ROOT,
    contentSecurityPolicy: config.middleware.security.content_security_policy,
  });

  return app;
}
