#!/usr/bin/env node
// Shows the last messages of a topic with every header decoded: the `traceparent` that carries the
// trace from producer to consumer, sitting in the message itself.
//
//   npm run peek -- student                 the last 5 messages of `student`
//   npm run peek -- student-billing --count 20
//
// Kafka from KAFKA_BROKERS and Jaeger from JAEGER_URL, or the native stack's config.

import { parseArgs } from 'node:util';
import { addresses, headersOf, kafkaClient, readMessages } from './lib/kafka-messages.mjs';

const USAGE = 'usage: npm run peek -- <topic> [--count N]';
const bold = (text) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);

let topic;
let count;
try {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { count: { type: 'string', default: '5' } } });
  [topic] = positionals;
  count = Number(values.count);
  if (positionals.length !== 1 || !Number.isInteger(count) || count < 1) throw new Error(USAGE);
} catch {
  console.error(USAGE);
  process.exit(2);
}

const { brokers, jaegerUrl } = addresses();
try {
  // The last `count` of each partition hold the last `count` of the topic.
  const messages = (await readMessages(kafkaClient('peek', brokers), topic, { last: count })).slice(-count);
  console.log(`${topic}: the last ${messages.length} message(s), oldest first`);
  for (const message of messages) {
    console.log(`\n  partition ${message.partition}, offset ${message.offset}, ${new Date(Number(message.timestamp)).toISOString()}, key ${message.key ?? '(none)'}`);
    for (const [name, value] of Object.entries(headersOf(message))) {
      const traceId = name === 'traceparent' ? value.split('-')[1] : undefined;
      console.log(traceId ? `  ${bold(`${name}: ${value}`)}  ${jaegerUrl}/trace/${traceId}` : `  ${name}: ${value}`);
    }
    console.log(`  value ${String(message.value).slice(0, 300)}`);
  }
} catch (error) {
  console.error(`peek: ${error.message} (Kafka at ${brokers.join(',')})`);
  process.exitCode = 1;
}
