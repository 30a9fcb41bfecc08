import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BadRequestException, Controller, Get, type INestApplication, Param } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { CannotExecuteNotConnectedError, DataSource, QueryFailedError, TypeORMError } from 'typeorm';
import { isPostgresUnavailable, UnavailableDependencyFilter } from './unavailable-dependency.filter.js';

/** An error as node-postgres or Node reports it, with its code. */
const withCode = (code: string) => Object.assign(new Error(`failed with ${code}`), { code });
/** A failed query as TypeORM reports it: QueryFailedError, with the driver's code copied onto it. */
const queryFailed = (code: string) => new QueryFailedError('INSERT INTO students ...', [], withCode(code));

describe('isPostgresUnavailable', () => {
  for (const [what, error] of [
    ['a refused connection', withCode('ECONNREFUSED')],
    ['a connection reset', withCode('ECONNRESET')],
    ['a server shutting down (57P01)', queryFailed('57P01')],
    ['a server starting up (57P03)', queryFailed('57P03')],
    ['a connection exception (08006)', queryFailed('08006')],
    ['no connection left (53300)', queryFailed('53300')],
    ['TypeORM not connected', new CannotExecuteNotConnectedError()],
  ] as const) {
    it(`is true for ${what}`, () => assert.equal(isPostgresUnavailable(error, true), true));
  }

  it('is true for any TypeORM error while the DataSource has not connected yet ("Driver not Connected")', () => {
    assert.equal(isPostgresUnavailable(new TypeORMError('Driver not Connected'), false), true);
    assert.equal(isPostgresUnavailable(new TypeORMError('Driver not Connected'), true), false);
  });

  for (const [what, error] of [
    ['a unique violation (23505)', queryFailed('23505')],
    ['a value Postgres refuses (22021)', queryFailed('22021')],
    ['a programming error', new TypeError('x is undefined')],
    ['a refused request', new BadRequestException()],
    ['something that is not an error', 'ECONNREFUSED'],
  ] as const) {
    it(`is false for ${what}`, () => assert.equal(isPostgresUnavailable(error, true), false));
  }
});

@Controller('fail')
class FailingController {
  @Get(':code')
  fail(@Param('code') code: string): never {
    throw code === 'bad-request' ? new BadRequestException('bad') : withCode(code);
  }
}

describe('UnavailableDependencyFilter', () => {
  let app: INestApplication;
  let url: string;

  before(async () => {
    const moduleRef = await Test.createTestingModule({
      controllers: [FailingController],
      providers: [
        // The filter reads only `isInitialized` of the DataSource.
        { provide: DataSource, useValue: { isInitialized: true } },
        { provide: APP_FILTER, useClass: UnavailableDependencyFilter },
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    url = `${await app.getUrl()}/fail`;
  });
  after(() => app.close());

  it('answers 503 with a plain message and Retry-After when Postgres cannot be reached', async () => {
    const response = await fetch(`${url}/ECONNREFUSED`);
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('retry-after'), '5');
    assert.deepEqual(await response.json(), {
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'Postgres is unavailable, try again in a moment',
    });
  });

  it('leaves every other error to Nest: a 500 stays a 500, a 400 a 400', async () => {
    const failed = await fetch(`${url}/23505`);
    assert.equal(failed.status, 500);
    assert.equal(failed.headers.get('retry-after'), null);
    assert.equal((await fetch(`${url}/bad-request`)).status, 400);
  });
});
