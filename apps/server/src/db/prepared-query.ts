import type BetterSqlite3 from 'better-sqlite3';
import type { Compilable, CompiledQuery, Kysely, QueryResult, SqliteStatement } from 'kysely';

import type { DB } from './schema.js';

/**
 * Fixed-shape queries built and compiled once instead of per call, for hot paths (a message
 * post runs four statements; Kysely's building, compiling and per-query executor work cost as
 * much CPU as SQLite itself, docs/BENCHMARKS.md, issue 15).
 *
 * A query is declared with a builder over named parameters; it is compiled once per dialect with
 * a placeholder standing in for each parameter, and each call only fills the parameter list.
 * Several queries form a unit (`runUnit`): a generator that yields each query and gets its
 * result back, so one body runs on either engine. On SQLite, when no transaction is open on the
 * connection, a unit runs synchronously on better-sqlite3 (in its own `BEGIN … COMMIT` when
 * asked): nothing else can run in between, so it cannot interleave with Kysely's queries or
 * transactions. Otherwise (PostgreSQL, a Kysely transaction passed in, or one open on the
 * SQLite connection) each query goes through Kysely's executor, which waits for the connection.
 */

/** Stands in for a named parameter while a prepared query is compiled. */
class Slot {
  constructor(readonly name: string) {}
}

type Params = Record<string, unknown>;

/** A compiled query and, per position of its parameter list, the parameter name or a constant. */
interface Compiled<O> {
  query: CompiledQuery<O>;
  fill: readonly unknown[];
}

/** The SQLite connection under a Kysely instance, registered by `openSqlite`. */
const sqliteConnections = new WeakMap<Kysely<DB>, SqliteConnection>();

interface SqliteConnection {
  db: Kysely<DB>;
  sqlite: BetterSqlite3;
  begin: SqliteStatement;
  commit: SqliteStatement;
  rollback: SqliteStatement;
  savepoint: SqliteStatement;
  release: SqliteStatement;
  rollbackToSavepoint: SqliteStatement;
  /** Transaction units waiting for the next group commit. */
  queue: Queued[];
}

/** A transaction unit waiting for its group commit, and its caller's promise. */
interface Queued {
  unit: () => Unit<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Lets prepared queries on `db` (not on its transactions) run directly on `sqlite`. */
export function registerSqliteConnection(db: Kysely<DB>, sqlite: BetterSqlite3): void {
  sqliteConnections.set(db, {
    db,
    sqlite,
    begin: sqlite.prepare('BEGIN'),
    commit: sqlite.prepare('COMMIT'),
    rollback: sqlite.prepare('ROLLBACK'),
    savepoint: sqlite.prepare('SAVEPOINT unit'),
    release: sqlite.prepare('RELEASE unit'),
    rollbackToSavepoint: sqlite.prepare('ROLLBACK TO unit'),
    queue: [],
  });
}

export class PreparedQuery<P extends Params, O> {
  /** By dialect adapter: a database and its transactions share one. */
  private readonly compiled = new WeakMap<object, Compiled<O>>();
  private readonly statements = new WeakMap<
    BetterSqlite3,
    { statement: SqliteStatement; fill: Compiled<O>['fill'] }
  >();

  constructor(private readonly build: (db: Kysely<DB>, params: P) => Compilable<O>) {}

  private compile(db: Kysely<DB>, params: P): Compiled<O> {
    const adapter = db.getExecutor().adapter;
    let compiled = this.compiled.get(adapter);
    if (!compiled) {
      const names = Object.keys(params);
      const slots = Object.fromEntries(names.map((name) => [name, new Slot(name)])) as unknown as P;
      const query = this.build(db, slots).compile();
      const fill = query.parameters.map((value) => value);
      for (const name of names) {
        if (!fill.some((value) => value instanceof Slot && value.name === name)) {
          throw new Error(
            `Prepared query parameter "${name}" did not become a bound parameter: ${query.sql}`,
          );
        }
      }
      compiled = { query, fill };
      this.compiled.set(adapter, compiled);
    }
    return compiled;
  }

  private static parameters(fill: ReadonlyArray<unknown>, params: Params): unknown[] {
    const values = new Array<unknown>(fill.length);
    for (let i = 0; i < fill.length; i++) {
      const value = fill[i];
      if (value instanceof Slot) {
        const given = params[value.name];
        // Kysely would leave an undefined value out; a prepared statement cannot.
        if (given === undefined) throw new Error(`Prepared query parameter "${value.name}" is undefined`);
        values[i] = given;
      } else {
        values[i] = value;
      }
    }
    return values;
  }

  /** Through Kysely's executor: any engine, inside a Kysely transaction too. */
  executeKysely(db: Kysely<DB>, params: P): Promise<QueryResult<O>> {
    const { query, fill } = this.compile(db, params);
    return db.executeQuery<O>({ ...query, parameters: PreparedQuery.parameters(fill, params) });
  }

  /** Synchronously on the SQLite connection under `db` (the caller made sure it is free). */
  runSqlite(db: Kysely<DB>, sqlite: BetterSqlite3, params: P): QueryResult<O> {
    let prepared = this.statements.get(sqlite);
    if (!prepared) {
      const { query, fill } = this.compile(db, params);
      prepared = { statement: sqlite.prepare(query.sql), fill };
      this.statements.set(sqlite, prepared);
    }
    const values = PreparedQuery.parameters(prepared.fill, params);
    if (prepared.statement.reader) return { rows: prepared.statement.all(values) as O[] };
    const { changes } = prepared.statement.run(values);
    return { rows: [], numAffectedRows: BigInt(changes) };
  }

  /** One query on its own (see `runUnit`). */
  execute(db: Kysely<DB>, params: P): Promise<QueryResult<O>> {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the generator needs the query
    const query = this;
    return runUnit(db, function* () {
      return yield* step(query, params);
    });
  }
}

/** Declares a prepared query: `build` gets placeholders for `params` and must bind each of them. */
export function prepared<P extends Params, O>(
  build: (db: Kysely<DB>, params: P) => Compilable<O>,
): PreparedQuery<P, O> {
  return new PreparedQuery(build);
}

interface Step {
  query: PreparedQuery<Params, unknown>;
  params: Params;
}

/** A unit of queries: yields each one (`yield* step(query, params)`) and returns its answer. */
export type Unit<T> = Generator<Step, T, QueryResult<unknown>>;

/** Runs one query of a unit and gives back its result. */
export function* step<P extends Params, O>(
  query: PreparedQuery<P, O>,
  params: P,
): Generator<Step, QueryResult<O>, QueryResult<unknown>> {
  return (yield { query: query as unknown as PreparedQuery<Params, unknown>, params }) as QueryResult<O>;
}

/**
 * Runs a unit, in one transaction when `transaction` is set (within the caller's when `db` is a
 * transaction already). An error thrown by a query is thrown into the unit at its `yield`.
 */
export function runUnit<T>(
  db: Kysely<DB>,
  unit: () => Unit<T>,
  { transaction = false }: { transaction?: boolean } = {},
): Promise<T> {
  const connection = sqliteConnections.get(db);
  if (connection && transaction) {
    return new Promise<T>((resolve, reject) => {
      if (connection.queue.length === 0) setImmediate(groupCommit, connection);
      connection.queue.push({ unit, resolve: resolve as (value: unknown) => void, reject });
    });
  }
  if (connection && !connection.sqlite.inTransaction) {
    // Runs now, synchronously; the executor turns a throw into a rejection.
    return new Promise<T>((resolve) => {
      resolve(runSqlite(db, connection.sqlite, unit()));
    });
  }
  return runInKyselyTransaction(db, unit, transaction);
}

function runInKyselyTransaction<T>(db: Kysely<DB>, unit: () => Unit<T>, transaction: boolean): Promise<T> {
  if (transaction && !db.isTransaction) return db.transaction().execute((trx) => runKysely(trx, unit()));
  return runKysely(db, unit());
}

/**
 * Most units a group commit runs in one transaction; the rest wait for the next one (a unit is
 * a few statements, ≈ 0.1 ms: this bounds how long one group holds the event loop).
 */
export const GROUP_COMMIT_MAX_UNITS = 128;

const groupCommits = { transactions: 0, units: 0 };

/** For tests: SQLite transactions the group commit ran so far, and the units in them. */
export function groupCommitState(): { transactions: number; units: number } {
  return { ...groupCommits };
}

/**
 * Group commit (SQLite): the transaction units asked for during one turn of the event loop (the
 * requests it read: message posts, quota reservations) run in one `BEGIN … COMMIT`, each in its
 * own savepoint, so each is still all or nothing and fails alone; their callers hear back once
 * the one `COMMIT` is done. A commit writes every page the transaction touched to the WAL (the
 * room's row, the contents table and its indexes: ≈ 13 `pwrite`s for one message), so a group
 * writes those pages once instead of once per unit, and the WAL fills (and is checkpointed, with
 * its `fsync`s) that much less often. If someone else's Kysely transaction is open on the
 * connection by then, the units wait for it through Kysely, one transaction each.
 */
function groupCommit(connection: SqliteConnection): void {
  const batch = connection.queue.splice(0, GROUP_COMMIT_MAX_UNITS);
  if (connection.queue.length > 0) setImmediate(groupCommit, connection);
  const { db, sqlite } = connection;
  if (sqlite.inTransaction) {
    for (const queued of batch)
      runInKyselyTransaction(db, queued.unit, true).then(queued.resolve, queued.reject);
    return;
  }
  const done: Array<{ queued: Queued; result: unknown }> = [];
  try {
    connection.begin.run([]);
    for (let i = 0; i < batch.length; i++) {
      const queued = batch[i]!;
      if (batch.length > 1) connection.savepoint.run([]);
      try {
        done.push({ queued, result: runSqlite(db, sqlite, queued.unit()) });
        if (batch.length > 1) connection.release.run([]);
      } catch (error) {
        queued.reject(error);
        if (batch.length === 1) break;
        if (sqlite.inTransaction) {
          connection.rollbackToSavepoint.run([]);
          connection.release.run([]);
          continue;
        }
        // The error ended the whole transaction (SQLite does so on a few, e.g. a full disk):
        // the units before it are undone too; they and the rest run again in the next group.
        const again = [...done.map((entry) => entry.queued), ...batch.slice(i + 1)];
        if (connection.queue.length === 0 && again.length > 0) setImmediate(groupCommit, connection);
        connection.queue.unshift(...again);
        return;
      }
    }
    if (sqlite.inTransaction) {
      if (done.length > 0) {
        connection.commit.run([]);
        groupCommits.transactions += 1;
        groupCommits.units += done.length;
      } else connection.rollback.run([]);
    }
  } catch (error) {
    // BEGIN or COMMIT failed: nothing of the group is stored.
    if (sqlite.inTransaction) connection.rollback.run([]);
    for (const { queued } of done) queued.reject(error);
    if (done.length === 0) for (const queued of batch) queued.reject(error);
    return;
  }
  for (const { queued, result } of done) queued.resolve(result);
}

function runSqlite<T>(db: Kysely<DB>, sqlite: BetterSqlite3, unit: Unit<T>): T {
  let next = unit.next();
  while (!next.done) {
    let result: QueryResult<unknown>;
    try {
      result = next.value.query.runSqlite(db, sqlite, next.value.params);
    } catch (error) {
      next = unit.throw(error);
      continue;
    }
    next = unit.next(result);
  }
  return next.value;
}

async function runKysely<T>(db: Kysely<DB>, unit: Unit<T>): Promise<T> {
  let next = unit.next();
  while (!next.done) {
    let result: QueryResult<unknown>;
    try {
      result = await next.value.query.executeKysely(db, next.value.params);
    } catch (error) {
      next = unit.throw(error);
      continue;
    }
    next = unit.next(result);
  }
  return next.value;
}
