import { createRequire } from 'node:module';

import type { FastifyServerOptions } from 'fastify';

type CompilersFactory = NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>;
type ValidatorFactory = NonNullable<CompilersFactory['buildValidator']>;
type SerializerFactory = NonNullable<CompilersFactory['buildSerializer']>;

/** Requires what Fastify itself depends on, from Fastify's own location. */
const fastifyRequire = createRequire(createRequire(import.meta.url).resolve('fastify'));

let validatorFactory: ValidatorFactory | undefined;
let serializerFactory: SerializerFactory | undefined;

/**
 * Fastify's default schema compilers (ajv through @fastify/ajv-compiler, and fast-json-stringify,
 * which brings ajv-formats and a second copy of ajv) are built when an app is created, even when
 * the app then sets its own (ours are zod's): about 200 modules of code no route uses. These
 * factories stand for the defaults and load them only if Fastify ever asks for one (a route with
 * a JSON schema and no zod compiler, or `addSchema`), with the same options it would pass them.
 */
export const lazyCompilersFactory: CompilersFactory = {
  buildValidator: (externalSchemas, options) => {
    validatorFactory ??= (fastifyRequire('@fastify/ajv-compiler') as () => ValidatorFactory)();
    return validatorFactory(externalSchemas, options);
  },
  buildSerializer: (externalSchemas, options) => {
    serializerFactory ??= (
      fastifyRequire('@fastify/fast-json-stringify-compiler') as () => SerializerFactory
    )();
    return serializerFactory(externalSchemas, options);
  },
};
