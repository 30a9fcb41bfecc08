import { type ArgumentMetadata, Injectable, type PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';

/** A Kafka message whose value is not the event its consumer expects. */
export class InvalidEventError extends Error {
  override readonly name = 'InvalidEventError';
}

/**
 * `@Payload(ParseEventPipe) event: StudentRegisteredEvent`: checks the message's value (already
 * JSON-decoded by Nest) against the parameter's event class, and hands the handler an instance of it.
 * An invalid value throws InvalidEventError, which DeadLetterInterceptor dead-letters without retrying.
 */
@Injectable()
export class ParseEventPipe implements PipeTransform<unknown, object> {
  transform(value: unknown, { metatype }: ArgumentMetadata): object {
    // An interface or a type alias leaves Nest only Object: nothing to validate against.
    if (!metatype || metatype === Object) throw new Error('ParseEventPipe needs the parameter typed with an event class');
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new InvalidEventError(`${metatype.name}: expected a JSON object, got ${JSON.stringify(value)?.slice(0, 200)}`);
    }
    const event = plainToInstance(metatype, value) as object;
    const errors = validateSync(event, { whitelist: true, forbidNonWhitelisted: false });
    if (errors.length > 0) {
      const problems = errors.map((error) => Object.values(error.constraints ?? {}).join(', ')).join('; ');
      throw new InvalidEventError(`${metatype.name}: ${problems}`);
    }
    return event;
  }
}
