// One statement on a connection of its own, for scripts and tests that ask Postgres a question now
// and then (the services use their pools).

import pg from 'pg';

/** Runs `sql` with `params` on a new connection to `connectionString`, closes it, returns the rows. */
export async function queryOnce(connectionString, sql, params = []) {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows;
  } finally {
    await client.end();
  }
}
