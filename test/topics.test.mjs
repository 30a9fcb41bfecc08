// The Kafka topics are named once, by .env's KAFKA_TOPICS: compose's kafka-init and the native stack
// create each and its dead-letter topic from it (test/compose.test.mjs runs kafka-init's script), the
// chart's copy is checked by test/chart/. Here: the services' names and rule agree with that list.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import * as contracts from '@demo/common/contracts';
import { deadLetterTopic } from '@demo/common/kafka';
import dotenv from 'dotenv';

import * as stack from '../scripts/stack/config.mjs';

const ROOT = path.resolve(import.meta.dirname, '..');
const listed = stack.eventTopics(dotenv.parse(readFileSync(path.join(ROOT, '.env'), 'utf8')).KAFKA_TOPICS);

test('the topic constants of @demo/common/contracts are the topics .env lists, no more, no fewer', () => {
  const constants = Object.entries(contracts).filter(([name]) => name.endsWith('_TOPIC'));
  assert.ok(constants.length > 0, 'the contracts export their topics as *_TOPIC constants');
  assert.deepEqual(constants.map(([, topic]) => topic).sort(), [...listed].sort());
});

test('the stack names each dead-letter topic as the consumers do, and creates it beside its topic', () => {
  for (const topic of listed) assert.equal(stack.deadLetterTopic(topic), deadLetterTopic(topic));
  assert.deepEqual(
    stack.kafkaTopics(listed).map(({ name }) => name),
    listed.flatMap((topic) => [topic, deadLetterTopic(topic)]),
  );
});

test('a topic list that Kafka would warn about, or that names a topic twice, is refused', () => {
  assert.deepEqual(stack.eventTopics(' a  b-c\n'), ['a', 'b-c']);
  assert.throws(() => stack.eventTopics(''), /KAFKA_TOPICS is empty/);
  assert.throws(() => stack.eventTopics(undefined), /KAFKA_TOPICS is empty/);
  assert.throws(() => stack.eventTopics('student student.billing student_x'), /student\.billing, student_x: use letters/);
  assert.throws(() => stack.kafkaTopics(['a', 'a-dlt']), /a-dlt named twice/);
});
