import { applyDecorators } from '@nestjs/common';
import { NotContains, ValidateBy } from 'class-validator';

/**
 * Text that Postgres and the outbox's JSON can store. JSON lets a client send both of these, and each
 * would fail the INSERT (a 500) or be stored mangled:
 * - a NUL character (`\u0000`), which a Postgres `text` column cannot hold;
 * - a lone surrogate (`\ud800`), half of a UTF-16 pair: not Unicode text, it has no UTF-8 encoding.
 */
export function IsStorableText(): PropertyDecorator {
  return applyDecorators(
    NotContains('\u0000', { message: '$property must not contain a NUL character (\\u0000)' }),
    ValidateBy(
      { name: 'isWellFormedUnicode', validator: { validate: (value: unknown) => typeof value !== 'string' || value.isWellFormed() } },
      { message: '$property must be well-formed Unicode: it contains a lone surrogate (\\ud800-\\udfff)' },
    ),
  );
}
