#!/usr/bin/env node
// Lists or replays the messages that the consumers could not process (the `<topic>-dlt` topics).
//
//   npm run dead-letters                                   list every dead-letter topic
//   npm run dead-letters -- list student-dlt               list one
//   npm run dead-letters -- replay student-dlt 2:17        send the dead letter at partition 2,
//                                                          offset 17 back to its original topic,
//                                                          for the group that failed it
//
// A replayed message keeps its original headers (its original traceparent among them), so its new
// processing joins the trace it started in. Every group reads the original topic: the replay carries
// the failed group in a `replayed-for-group` header, and the other groups skip it. Kafka from
// KAFKA_BROKERS, or the native stack's config.

import kafkajs from 'kafkajs';
import { addresses, headersOf, kafkaClient, readMessages } from './lib/kafka-messages.mjs';
import { deadLetterTopic, demoEventTopics } from './stack/config.mjs';

const DEAD_LETTER_TOPICS = demoEventTopics().map(deadLetterTopic);
const USAGE = 'usage: npm run dead-letters -- [list [<topic>-dlt]] | replay <topic>-dlt <partition>:<offset>';

const { brokers, jaegerUrl } = addresses();
const kafka = kafkaClient('dead-letters', brokers);
const readAll = (topic) => readMessages(kafka, topic);

async function list(topics) {
  for (const topic of topics) {
    const messages = await readAll(topic);
    console.log(`${topic}: ${messages.length} dead letter(s)`);
    for (const message of messages) {
      const headers = headersOf(message);
      const traceId = headers['dlt-original-traceparent']?.split('-')[1];
      console.log(`  ${message.partition}:${message.offset}  ${new Date(Number(message.timestamp)).toISOString()}  key ${message.key ?? '(none)'}`);
      console.log(`    from     ${headers['dlt-original-topic']} ${headers['dlt-original-partition']}:${headers['dlt-original-offset']}, group ${headers['dlt-consumer-group']}, after ${headers['dlt-attempts']} attempt(s)`);
      console.log(`    error    ${headers['dlt-error-type']}: ${headers['dlt-error']}`);
      console.log(`    value    ${String(message.value).slice(0, 200)}`);
      if (traceId) console.log(`    trace    ${jaegerUrl}/trace/${traceId}`);
    }
  }
}

async function replay(topic, position) {
  const [partition, offset] = position.split(':').map(Number);
  const message = (await readAll(topic)).find((each) => each.partition === partition && Number(each.offset) === offset);
  if (!message) throw new Error(`no dead letter at ${topic} ${position}`);
  const headers = headersOf(message);
  const original = Object.fromEntries(Object.entries(headers).filter(([name]) => !name.startsWith('dlt-')));
  if (headers['dlt-original-traceparent']) original.traceparent = headers['dlt-original-traceparent'];
  const group = headers['dlt-consumer-group'];
  if (group) original['replayed-for-group'] = group;
  else console.warn('this dead letter names no consumer group: every group reading the topic processes the replay');
  const producer = kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
  await producer.connect();
  await producer.send({ topic: headers['dlt-original-topic'], messages: [{ key: message.key, value: message.value, headers: original }] });
  await producer.disconnect();
  console.log(`replayed ${topic} ${position} to ${headers['dlt-original-topic']}${group ? `, for group ${group}` : ''}`);
}

const [command = 'list', ...args] = process.argv.slice(2);
try {
  if (command === 'list' && args.length <= 1 && args.every((topic) => DEAD_LETTER_TOPICS.includes(topic))) {
    await list(args.length ? args : DEAD_LETTER_TOPICS);
  } else if (command === 'replay' && args.length === 2 && DEAD_LETTER_TOPICS.includes(args[0]) && /^\d+:\d+$/.test(args[1])) {
    await replay(args[0], args[1]);
  } else {
    console.error(USAGE);
    process.exitCode = 2;
  }
} catch (error) {
  console.error(`dead-letters: ${error.message} (Kafka at ${brokers.join(',')})`);
  process.exitCode = 1;
}
