import { Matches } from 'class-validator';

/** What a service that uses Postgres needs. */
export class DatabaseEnvironment {
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'DATABASE_URL must be a postgres:// connection URL' })
  DATABASE_URL: string;
}
