import { type INestApplication, RequestMethod, ValidationPipe } from '@nestjs/common';
import { BodyDepthPipe } from '../validation/body-depth.pipe.js';

/** Far deeper than any body this API takes, far shallower than what overflows class-transformer. */
const MAX_BODY_DEPTH = 32;

/** HTTP set-up shared by main.ts and the tests, so the tests exercise the real validation. */
export function configureHttp(app: INestApplication): void {
  app.setGlobalPrefix('api/v1', {
    exclude: [
      { path: 'health/live', method: RequestMethod.GET },
      { path: 'health/ready', method: RequestMethod.GET },
    ],
  });
  // Unknown fields are refused rather than silently dropped: a typo in a field name is a 400.
  app.useGlobalPipes(new BodyDepthPipe(MAX_BODY_DEPTH), new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
}
