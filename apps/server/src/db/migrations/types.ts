import type { Kysely } from 'kysely';

import type { Dialect } from '../dialect.js';

export interface MigrationContext {
  dialect: Dialect;
}

/**
 * One schema step. Migrations see an untyped database on purpose: they describe the schema as
 * it was when they were written, not the current `DB` type.
 */
export interface DatabaseMigration {
  /** Sorts after every earlier migration (`NNNN_description`); never renamed once released. */
  name: string;
  up(db: Kysely<unknown>, context: MigrationContext): Promise<void>;
}
