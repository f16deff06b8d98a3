import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';

import { lazyCompilersFactory } from './lazy-compilers.js';

describe('lazyCompilersFactory', () => {
  it("loads Fastify's ajv and fast-json-stringify compilers when a JSON-schema route asks for them", async () => {
    const app = Fastify({ schemaController: { compilersFactory: lazyCompilersFactory } });
    app.post(
      '/echo',
      {
        schema: {
          body: {
            type: 'object',
            required: ['name'],
            properties: { name: { type: 'string', minLength: 2 } },
          },
          response: { 200: { type: 'object', properties: { name: { type: 'string' } } } },
        },
      },
      async (request) => ({ ...(request.body as object), secret: 'not in the response schema' }),
    );
    try {
      const ok = await app.inject({ method: 'POST', url: '/echo', payload: { name: 'ab' } });
      expect(ok.statusCode).toBe(200);
      // Serialised by fast-json-stringify: what the response schema does not name is left out.
      expect(ok.body).toBe('{"name":"ab"}');
      const invalid = await app.inject({ method: 'POST', url: '/echo', payload: { name: 'a' } });
      expect(invalid.statusCode).toBe(400);
      expect(invalid.json().message).toContain('must NOT have fewer than 2 characters');
    } finally {
      await app.close();
    }
  });
});
