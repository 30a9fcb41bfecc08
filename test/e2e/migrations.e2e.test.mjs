// Services and replicas that start together migrate one database: the advisory lock around the
// migrations makes them take turns, so none fails on a table another is creating. Runs the built
// migrations (npm run build) against the stack's Postgres, in a fresh schema of their own.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runMigrationsExclusively } from '@demo/common/database';
import { CreateOutbox1764000000001 } from '@demo/common/outbox';
import { DataSource } from 'typeorm';
import { CreateStudents1764000000000 } from '../../api-service/dist/database/migrations/1764000000000-create-students.js';
import { CreateProcessedEvents1764000000002 } from '../../billing-consumer/dist/database/migrations/1764000000002-create-processed-events.js';
import { env, query } from './support.mjs';

const API_SERVICE_MIGRATIONS = [CreateStudents1764000000000, CreateOutbox1764000000001];
const BILLING_MIGRATIONS = [CreateOutbox1764000000001, CreateProcessedEvents1764000000002];

describe('migrations at start-up', () => {
  const schema = `migrations_${process.pid}_${Date.now()}`;
  const replicas = [];

  /** A service's DataSource, migrating the fresh schema. */
  function service(migrations) {
    const dataSource = new DataSource({ type: 'postgres', url: env.databaseUrl, migrations, extra: { options: `-c search_path=${schema}` } });
    replicas.push(dataSource);
    return dataSource;
  }

  before(() => query(`CREATE SCHEMA "${schema}"`));
  after(async () => {
    await Promise.all(replicas.filter((dataSource) => dataSource.isInitialized).map((dataSource) => dataSource.destroy()));
    await query(`DROP SCHEMA "${schema}" CASCADE`);
  });

  it('two api-service replicas and billing migrating a fresh database at once all succeed', async () => {
    const starting = [service(API_SERVICE_MIGRATIONS), service(API_SERVICE_MIGRATIONS), service(BILLING_MIGRATIONS)];
    await Promise.all(starting.map((dataSource) => dataSource.initialize()));

    const results = await Promise.allSettled(starting.map(runMigrationsExclusively));

    assert.deepEqual(results.map((result) => result.reason?.message ?? result.status), ['fulfilled', 'fulfilled', 'fulfilled']);
    const applied = await query(`SELECT name FROM "${schema}".migrations ORDER BY name`);
    assert.deepEqual(applied.map((row) => row.name), ['CreateOutbox1764000000001', 'CreateProcessedEvents1764000000002', 'CreateStudents1764000000000'], 'each migration ran once');
    const tables = await query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`, [schema]);
    assert.deepEqual(tables.map((row) => row.table_name), ['migrations', 'outbox', 'processed_events', 'students']);
  });
});
