import type { DataSource } from 'typeorm';

/** Any fixed number, the same in every service that migrates this database. */
const MIGRATIONS_LOCK = 1_764_000_000;

/**
 * Runs the pending migrations while holding a Postgres advisory lock. TypeORM takes no lock of its
 * own: two services (or two replicas) starting together would both create the same table, and one
 * would fail. With the lock the second waits, then finds the migrations done.
 */
export async function runMigrationsExclusively(dataSource: DataSource): Promise<void> {
  // A session lock, held by this one connection while the migrations run on others of the pool.
  const lockHolder = dataSource.createQueryRunner();
  await lockHolder.connect();
  try {
    await lockHolder.query('SELECT pg_advisory_lock($1)', [MIGRATIONS_LOCK]);
    try {
      await dataSource.runMigrations({ transaction: 'each' });
    } finally {
      await lockHolder.query('SELECT pg_advisory_unlock($1)', [MIGRATIONS_LOCK]);
    }
  } finally {
    await lockHolder.release();
  }
}
