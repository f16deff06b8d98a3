/** The slice of `s3rver` (no bundled types; a Koa application) the S3 tests use. */
declare module 's3rver' {
  /** The part of a Koa context the test support's middleware reads and writes. */
  export interface S3rverContext {
    method: string;
    path: string;
    query: Record<string, string | string[] | undefined>;
    status: number;
    body: unknown;
    /** A request header (Koa's `ctx.get`), '' when absent. */
    get(name: string): string;
    /** The Node request, to read the body. */
    req: AsyncIterable<Buffer>;
  }
  export type S3rverMiddleware = (ctx: S3rverContext, next: () => Promise<void>) => Promise<void>;
  export default class S3rver {
    constructor(options: {
      address?: string;
      port?: number;
      silent?: boolean;
      directory: string;
      configureBuckets?: Array<{ name: string }>;
    });
    /** Koa's middleware stack, composed when the server starts listening. */
    middleware: S3rverMiddleware[];
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
  }
}
