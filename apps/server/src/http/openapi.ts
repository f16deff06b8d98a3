import { randomBytes } from 'node:crypto';

import { API_PREFIX } from '@elizabeth/protocol';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

import { SERVER_VERSION } from '../lib/version.js';

/**
 * OpenAPI 3.1 generated from the zod schemas the routes validate with, served as JSON at
 * `/api/v1/openapi.json`, and the Scalar reference UI at `/api/v1/scalar` with its script
 * served by this server (no CDN).
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Elizabeth API',
        version: SERVER_VERSION,
        description:
          'Room-centric temporary sharing: rooms, sessions, messages, files and links. ' +
          'Errors always use the envelope `{"error":{"code","message","status"}}`.',
      },
      servers: [],
      components: {
        securitySchemes: {
          roomToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          adminToken: { type: 'http', scheme: 'bearer' },
        },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });

  app.get(`${API_PREFIX}/openapi.json`, { schema: { hide: true } }, async (_request, reply) => {
    return reply.type('application/json; charset=utf-8').send(app.swagger());
  });

  // Scalar renders one inline configuration script; a per-process nonce lets the page keep a
  // CSP without 'unsafe-inline' (the page shows no user content).
  const nonce = randomBytes(16).toString('base64');
  const csp =
    `default-src 'self'; script-src 'self' 'nonce-${nonce}'; style-src 'self' 'unsafe-inline'; ` +
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; object-src 'none'; " +
    "frame-ancestors 'none'; base-uri 'self'";
  const routePrefix = `${API_PREFIX}/scalar`;
  // The Scalar plugin carries its 4 MB browser bundle inside its module (~38 MB of RSS and half a
  // second to load), so it is loaded on the first visit to the reference, into a private
  // Fastify instance that the routes below hand the request to.
  let docs: Promise<FastifyInstance> | undefined;
  const loadDocs = async () => {
    const { default: scalar } = await import('@scalar/fastify-api-reference');
    const instance = Fastify({ logger: false });
    await instance.register(scalar, {
      routePrefix,
      configuration: {
        url: `${API_PREFIX}/openapi.json`,
        nonce,
        withDefaultFonts: false,
        hideClientButton: true,
        telemetry: false,
      },
    });
    await instance.ready();
    return instance;
  };
  const serveDocs = async (request: FastifyRequest, reply: FastifyReply) => {
    docs ??= loadDocs().catch((error: unknown) => {
      docs = undefined;
      throw error;
    });
    const answer = await (await docs).inject({ method: 'GET', url: request.url });
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value === undefined || HOP_HEADERS.has(name)) continue;
      reply.header(name, value);
    }
    return reply.code(answer.statusCode).header('Content-Security-Policy', csp).send(answer.rawPayload);
  };
  app.get(routePrefix, { schema: { hide: true } }, serveDocs);
  app.get(`${routePrefix}/*`, { schema: { hide: true } }, serveDocs);
}

/** Headers that describe the private instance's connection, not the answer. */
const HOP_HEADERS = new Set(['content-length', 'connection', 'keep-alive', 'transfer-encoding', 'date']);
