#!/usr/bin/env node
// Lists or replays the messages that the consumers could not process (the `.DLT` topics).
//
//   npm run dead-letters                                   list both dead-letter topics
//   npm run dead-letters -- list student.DLT               list one
//   npm run dead-letters -- replay student.DLT 2:17        send the dead letter at partition 2,
//                                                          offset 17 back to its original topic
//
// A replayed message keeps its original headers (its original traceparent among them), so its new
// processing joins the trace it started in. Kafka from KAFKA_BROKERS, or the native stack's config.

import kafkajs from 'kafkajs';
import { loadStackConfig } from './stack/config.mjs';

const DEAD_LETTER_TOPICS = ['student.DLT', 'student-billing.DLT'];
const USAGE = 'usage: npm run dead-letters -- [list [<topic>.DLT]] | replay <topic>.DLT <partition>:<offset>';

const config = loadStackConfig();
const brokers = (process.env.KAFKA_BROKERS ?? `127.0.0.1:${config.ports.kafka}`).split(',');
const jaegerUrl = process.env.JAEGER_URL ?? `http://127.0.0.1:${config.ports.jaegerUi}`;
const kafka = new kafkajs.Kafka({ clientId: 'dead-letters', brokers, logLevel: kafkajs.logLevel.NOTHING, retry: { retries: 2 } });

/** Every message of `topic` up to its current end (never waits for new ones). */
async function readAll(topic) {
  const admin = kafka.admin();
  await admin.connect();
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map(({ partition, low, high }) => [partition, { low: Number(low), high: Number(high) }]));
  await admin.disconnect();
  const remaining = [...ends.values()].reduce((sum, { low, high }) => sum + high - low, 0);
  if (remaining === 0) return [];

  const consumer = kafka.consumer({ groupId: `dead-letters-${process.pid}-${Date.now()}` });
  await consumer.connect();
  const messages = [];
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${messages.length} of ${remaining} messages of ${topic} in 20 s`)), 20_000);
      consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          if (Number(message.offset) >= ends.get(partition).high) return;
          messages.push({ partition, ...message });
          if (messages.length === remaining) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return messages.sort((a, b) => Number(a.timestamp) - Number(b.timestamp));
}

const headersOf = (message) =>
  Object.fromEntries(Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]));

async function list(topics) {
  for (const topic of topics) {
    const messages = await readAll(topic);
    console.log(`${topic}: ${messages.length} dead letter(s)`);
    for (const message of messages) {
      const headers = headersOf(message);
      const traceId = headers['dlt-original-traceparent']?.split('-')[1];
      console.log(`  ${message.partition}:${message.offset}  ${new Date(Number(message.timestamp)).toISOString()}  key ${message.key ?? '(none)'}`);
      console.log(`    from     ${headers['dlt-original-topic']} ${headers['dlt-original-partition']}:${headers['dlt-original-offset']} after ${headers['dlt-attempts']} attempt(s)`);
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
  const producer = kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
  await producer.connect();
  await producer.send({ topic: headers['dlt-original-topic'], messages: [{ key: message.key, value: message.value, headers: original }] });
  await producer.disconnect();
  console.log(`replayed ${topic} ${position} to ${headers['dlt-original-topic']}`);
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
