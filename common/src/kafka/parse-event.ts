import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';

/** A Kafka message whose value is not the event its consumer expects. */
export class InvalidEventError extends Error {
  override readonly name = 'InvalidEventError';
}

/** Checks a message value (already JSON-decoded by Nest) against an event class. */
export function parseEvent<T extends object>(eventClass: new () => T, value: unknown): T {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidEventError(`${eventClass.name}: expected a JSON object, got ${JSON.stringify(value)?.slice(0, 200)}`);
  }
  const event = plainToInstance(eventClass, value);
  const errors = validateSync(event, { whitelist: true, forbidNonWhitelisted: false });
  if (errors.length > 0) {
    const problems = errors.map((error) => Object.values(error.constraints ?? {}).join(', ')).join('; ');
    throw new InvalidEventError(`${eventClass.name}: ${problems}`);
  }
  return event;
}
