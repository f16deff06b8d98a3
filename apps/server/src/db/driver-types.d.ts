/**
 * The slices of `better-sqlite3` and `pg` this server uses. The packages ship no types and
 * adding `@types/*` would touch the lockfile; Kysely's own driver interfaces describe what it
 * needs, the rest is what `db/` and the test support call directly.
 */

declare module 'better-sqlite3' {
  import type { SqliteDatabase, SqliteStatement } from 'kysely';

  namespace BetterSqlite3 {
    interface Options {
      readonly?: boolean;
      fileMustExist?: boolean;
      /** Busy timeout, milliseconds. */
      timeout?: number;
    }
  }

  class BetterSqlite3 implements SqliteDatabase {
    constructor(filename: string, options?: BetterSqlite3.Options);
    readonly open: boolean;
    readonly inTransaction: boolean;
    readonly memory: boolean;
    readonly name: string;
    close(): void;
    prepare(sql: string): SqliteStatement;
  }

  export = BetterSqlite3;
}

declare module 'pg' {
  import type { PostgresQueryResult } from 'kysely';

  export type TypeParser = (value: string) => unknown;

  export interface CustomTypesConfig {
    getTypeParser(oid: number, format?: 'text' | 'binary'): TypeParser;
  }

  export interface ClientConfig {
    connectionString?: string;
    connectionTimeoutMillis?: number;
    application_name?: string;
    types?: CustomTypesConfig;
  }

  export interface PoolConfig extends ClientConfig {
    max?: number;
    min?: number;
    idleTimeoutMillis?: number;
  }

  export interface QueryResult<R = Record<string, unknown>> {
    rows: R[];
    rowCount: number | null;
  }

  /** A client checked out of a pool; `release(true)` or `release(err)` destroys it. */
  export interface PoolClient {
    query<R>(text: string, values: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
    release(destroy?: boolean | Error): void;
    on(event: 'error', listener: (err: Error) => void): this;
    removeListener(event: 'error', listener: (err: Error) => void): this;
  }

  export class Pool {
    constructor(config?: PoolConfig);
    readonly totalCount: number;
    readonly idleCount: number;
    connect(): Promise<PoolClient>;
    end(): Promise<void>;
    on(event: 'error', listener: (err: Error) => void): this;
  }

  export class Client {
    constructor(config?: ClientConfig | string);
    connect(): Promise<void>;
    query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
    end(): Promise<void>;
    on(event: 'error', listener: (err: Error) => void): this;
  }

  export const types: {
    getTypeParser(oid: number, format?: 'text' | 'binary'): TypeParser;
  };

  export function escapeIdentifier(value: string): string;
}
