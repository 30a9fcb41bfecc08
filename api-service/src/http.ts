import { UnavailableDependencyFilter } from './http/unavailable-dependency.filter.js';
import { type INestApplication, RequestMethod, ValidationPipe } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';

/** HTTP set-up shared by main.ts and the tests, so the tests exercise the real validation. */
export function configureHttp(app: INestApplication): void {
  app.setGlobalPrefix('api/v1', {
    exclude: [
      { path: 'health/live', method: RequestMethod.GET },
      { path: 'health/ready', method: RequestMethod.GET },
    ],
  });
  // Unknown fields are refused rather than silently dropped: a typo in a field name is a 400.
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  // Postgres or Kafka down: 503 with a plain message, never a stack trace.
  app.useGlobalFilters(new UnavailableDependencyFilter(app.get(HttpAdapterHost).httpAdapter));
}
