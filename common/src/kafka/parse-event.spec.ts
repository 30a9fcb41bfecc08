import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StudentBilledEvent, StudentRegisteredEvent } from '../contracts/student.events.js';
import { InvalidEventError, ParseEventPipe } from './parse-event.js';

const registered = {
  eventId: '5d0e3c1a-7f5e-4f8e-9a55-2b7c9d1e0f11',
  id: '0b6c8f52-8a0e-4a57-a0d4-6f3e1c2d9b10',
  firstname: 'Ada',
  lastname: 'Lovelace',
  createdAt: '2026-11-20T10:00:00.000Z',
};
const pipe = new ParseEventPipe();
/** What Nest passes for `@Payload(ParseEventPipe) event: <metatype>`. */
const asPayload = (metatype: new () => object) => ({ type: 'custom' as const, metatype });

describe('ParseEventPipe', () => {
  it('gives an instance of the parameter\'s event class, its dates as Dates', () => {
    const event = pipe.transform(registered, asPayload(StudentRegisteredEvent)) as StudentRegisteredEvent;
    assert.ok(event instanceof StudentRegisteredEvent);
    assert.deepEqual(event.createdAt, new Date(registered.createdAt));
  });

  for (const [what, value, eventClass, error] of [
    ['not an object', 'hello', StudentRegisteredEvent, /^StudentRegisteredEvent: expected a JSON object, got "hello"$/],
    ['null', null, StudentRegisteredEvent, /expected a JSON object, got null/],
    ['an array', [registered], StudentRegisteredEvent, /expected a JSON object/],
    ['a missing id', { ...registered, id: undefined }, StudentRegisteredEvent, /id must be a UUID/],
    ['a missing event id', { ...registered, eventId: undefined }, StudentRegisteredEvent, /eventId must be a UUID/],
    ['a wrong type', { ...registered, createdAt: 'yesterday' }, StudentRegisteredEvent, /createdAt must be a Date/],
    ['a negative fee', { ...registered, feeCents: -1, billedAt: registered.createdAt }, StudentBilledEvent, /^StudentBilledEvent: feeCents must not be less than 0$/],
  ] as const) {
    it(`refuses a value with ${what}: InvalidEventError, which is dead-lettered without a retry`, () => {
      assert.throws(
        () => pipe.transform(value, asPayload(eventClass)),
        (thrown) => thrown instanceof InvalidEventError && error.test(thrown.message),
      );
    });
  }

  it('refuses to run on a parameter without an event class, as a programming error', () => {
    assert.throws(() => pipe.transform(registered, { type: 'custom' }), (thrown) => !(thrown instanceof InvalidEventError));
    assert.throws(() => pipe.transform(registered, asPayload(Object)), /needs the parameter typed with an event class/, 'an interface');
  });
});
