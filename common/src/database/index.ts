export { DatabaseModule, type DatabaseOptions } from './database.module.js';
export { DatabaseEnvironment } from './database.environment.js';
export { runMigrationsExclusively } from './migrations.js';
