import type { ColumnBuilderCallback, CreateTableBuilder } from 'kysely';

/** What `addColumn` accepts as a type (Kysely does not export the name). */
export type DataTypeExpression = Parameters<CreateTableBuilder<string>['addColumn']>[1];

export type Dialect = 'sqlite' | 'postgres';

/**
 * Column types that differ between the engines, so one migration serves both. SQLite stores
 * every integer in up to 8 bytes whatever the declared type; PostgreSQL needs `bigint` for
 * sizes and millisecond timestamps beyond 2^31.
 */
export interface ColumnTypes {
  /** 64-bit integer: ids, foreign keys, sizes, counters, epoch-millisecond timestamps. */
  int64: DataTypeExpression;
  /** Small enumerations (status, content kind). */
  int16: DataTypeExpression;
  /** Arguments for `addColumn('id', ...columnTypes.id)`. */
  id: [DataTypeExpression, ColumnBuilderCallback];
}

export function columnTypes(dialect: Dialect): ColumnTypes {
  if (dialect === 'sqlite') {
    return {
      int64: 'integer',
      int16: 'integer',
      // AUTOINCREMENT so the id of a deleted row is never handed out again: ids reach clients
      // (content ids, download URLs, ETags) and must not come back meaning something else.
      id: ['integer', (col) => col.primaryKey().autoIncrement()],
    };
  }
  return {
    int64: 'bigint',
    int16: 'smallint',
    id: ['bigserial', (col) => col.primaryKey()],
  };
}
