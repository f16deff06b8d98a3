export {
  type CreateDatabaseOptions,
  createDatabase,
  type Database,
  type DatabaseLogger,
  type DbExecutor,
} from './database.js';
export { columnTypes, type ColumnTypes, type DataTypeExpression, type Dialect } from './dialect.js';
export { isCheckViolation, isConnectionError, isForeignKeyViolation, isUniqueViolation } from './errors.js';
export {
  KEPT_BACKUPS,
  listMigrations,
  listSqliteBackups,
  type MigrateOptions,
  type MigrateResult,
  migrateToLatest,
  type MigrationStatus,
} from './migrate.js';
export { type DatabaseMigration, type MigrationContext, MIGRATIONS } from './migrations/index.js';
export * from './schema.js';
export { type DatabaseTarget, parseDatabaseUrl } from './url.js';
