/**
 * The headline test: one POST, one trace, across three services and two Kafka hops, read back from
 * Jaeger's HTTP API and checked against the OpenTelemetry semantic conventions.
 * Runs against any running stack: `npm run test:e2e` starts the native one when none is given.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { SERVICES } from '../../scripts/stack/config.mjs';
import {
  env,
  isAncestor,
  messageHeaders,
  postStudent,
  query,
  rootSpans,
  serviceLogLines,
  storedLogRecords,
  start,
  stop,
  topicEndOffsets,
  traceIdOf,
  waitFor,
  waitForTrace,
} from './support.mjs';

/**
 * The fee rule of docs/api.md, written out again: an expected value taken from billing's own code
 * would agree with any mistake in it. 1,200.00 a year, 10 % off for day 1 to 15 of a month (UTC).
 */
const expectedFeeCents = (registeredAt) => (registeredAt.getUTCDate() <= 15 ? 108_000 : 120_000);

/** The spans the trace must chain, found by name and kind (pg spans by their statement). */
function pipelineSpans(spans) {
  const one = (what, predicate) => {
    const found = spans.filter(predicate);
    assert.equal(found.length, 1, `exactly one ${what}, found ${found.map((s) => s.name).join(', ') || 'none'}`);
    return found[0];
  };
  const query = (service, statement) => (s) =>
    s.service === service && s.kind === 'client' && statement.test(String(s.tags['db.query.text'] ?? '').trimStart());
  return {
    server: one('POST server span', (s) => s.service === 'api-service' && s.kind === 'server'),
    // One statement inserts the student and its outbox message (a data-modifying CTE).
    insert: one('INSERT INTO students and outbox', query('api-service', /^WITH student AS \(\s*INSERT INTO students\b[\s\S]*INSERT INTO outbox\b/i)),
    sendStudent: one('send student', (s) => s.name === 'send student' && s.kind === 'producer'),
    processStudent: one('process student', (s) => s.name === 'process student' && s.kind === 'consumer'),
    // One statement claims the event, sets the fee and inserts the outbox message.
    update: one('claim, UPDATE students, INSERT INTO outbox', query('billing-consumer', /^WITH claim AS \(\s*INSERT INTO processed_events\b[\s\S]*UPDATE students\b[\s\S]*INSERT INTO outbox\b/i)),
    sendBilling: one('send student-billing', (s) => s.name === 'send student-billing' && s.kind === 'producer'),
    // The notifier's: another consumer of student-billing (a fork's new service) has its own.
    processBilling: one('process student-billing (notifier-consumer)', (s) => s.service === 'notifier-consumer' && s.name === 'process student-billing' && s.kind === 'consumer'),
  };
}

/**
 * The SDK starts a span on a whole millisecond and times it on the monotonic clock
 * (docs/trace-shape.md, span timing): a span begun less than 1 ms after another ended may show a start
 * up to 1 ms before that end. Both times are in microseconds.
 */
function assertStartsAfter(later, earlier, message) {
  const gapUs = later.start - earlier.end;
  assert.ok(gapUs > -1000, `${message}: ${later.name} starts ${gapUs} µs after ${earlier.name} ends`);
}

/**
 * Each service exports its spans in its own batches, seconds apart: a trace is complete once every
 * span of the pipeline and both business spans have arrived.
 */
function isComplete(spans) {
  try {
    pipelineSpans(spans);
  } catch {
    return false;
  }
  return ['bill student', 'notify student'].every((name) => spans.some((s) => s.name === name));
}

async function registerStudent(name) {
  const response = await postStudent({ firstname: name, lastname: 'Trace' });
  assert.equal(response.status, 201, `POST answered ${response.status}: ${await response.clone().text()}`);
  const student = await response.json();
  return { student, traceId: traceIdOf(response) };
}

describe('one POST, one connected trace', () => {
  let student;
  let traceId;
  let traces;
  let spans;
  let chain;

  before(async () => {
    ({ student, traceId } = await registerStudent('Ada'));
    ({ traces, spans } = await waitForTrace(traceId, isComplete));
    chain = pipelineSpans(spans);
  });

  it('is ONE trace, under the id of the traceresponse header, with spans of all three services; consumers are children and links', () => {
    assert.equal(traces.length, 1);
    assert.deepEqual([...new Set(spans.map((s) => s.traceId))], [traceId]);
    assert.deepEqual([...new Set(spans.map((s) => s.service))].sort(), [...SERVICES].sort());
    // The conventions' SHOULD (a link to the creation context) and MAY (the same as parent), both.
    const linked = spans.filter((s) => s.links.length > 0);
    assert.deepEqual(
      linked.map((s) => [s.name, s.links.map((link) => link.spanID)]),
      spans.filter((s) => s.kind === 'consumer').map((s) => [s.name, [s.parentId]]),
      'each consumer span, and only it, is linked to the send span that is its parent',
    );
  });

  it('chains POST -> INSERT, then send student -> process student -> UPDATE, send student-billing -> process student-billing', () => {
    const { server, insert, sendStudent, processStudent, update, sendBilling, processBilling } = chain;
    assert.equal(server.parentId, undefined, 'the server span is the root');
    assert.ok(isAncestor(spans, server, insert), 'INSERT under the server span');
    assert.ok(isAncestor(spans, server, sendStudent), 'send student under the server span');
    assertStartsAfter(sendStudent, insert, 'the student is produced after it is stored');
    assert.equal(processStudent.parentId, sendStudent.spanId, 'process student is the child of send student');
    assert.equal(processStudent.service, 'billing-consumer');
    assert.ok(isAncestor(spans, processStudent, update), 'UPDATE under process student');
    assert.ok(isAncestor(spans, processStudent, sendBilling), 'send student-billing under process student');
    assertStartsAfter(sendBilling, update, 'the billed student is produced after the fee is stored');
    assert.equal(processBilling.parentId, sendBilling.spanId, 'process student-billing is the child of send student-billing');
    assert.equal(processBilling.service, 'notifier-consumer');
    const businessSpans = spans.filter((s) => ['bill student', 'notify student'].includes(s.name));
    assert.equal(businessSpans.length, 2, 'one business span per consumer handler');
    for (const span of businessSpans) assert.equal(span.tags['app.student.id'], student.id, `${span.name} names the student by id`);
  });

  it('stores the student and its outbox message in one statement, and sends the message after it', async () => {
    const { server, insert, sendStudent } = chain;
    assert.ok(isAncestor(spans, server, insert), `${insert.name} under the server span`);
    const apiStatements = spans.filter((s) => s.service === 'api-service' && s.tags['db.query.text'] !== undefined);
    assert.deepEqual(apiStatements, [insert], 'one round trip to Postgres: no BEGIN, no COMMIT, no second INSERT');
    assert.deepEqual(spans.filter((s) => /^pg(-pool)?\.connect$/.test(s.name)), [], 'no connection spans, only statements');
    assertStartsAfter(sendStudent, insert, 'sent by the relay once committed');
    const [message] = await query(`SELECT event_id, trace_context, sent_at FROM outbox WHERE topic = 'student' AND key = $1`, [student.id]);
    assert.ok(message.sent_at, 'the outbox row is marked sent');
    assert.match(message.trace_context.traceparent, new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`), 'it kept the trace context');
    const [processed] = await query('SELECT count(*)::int AS count FROM processed_events WHERE event_id = $1', [message.event_id]);
    assert.equal(processed.count, 1, 'billing-consumer recorded the event as processed');
  });

  it('names the server span by its route, with the HTTP attributes', () => {
    const { server } = chain;
    assert.equal(server.name, 'POST /api/v1/students');
    assert.equal(server.tags['http.route'], '/api/v1/students');
    assert.equal(server.tags['http.request.method'], 'POST');
    assert.equal(server.tags['http.response.status_code'], 201);
    assert.equal(server.tags['url.path'], '/api/v1/students');
  });

  it('carries the messaging attributes of the semantic conventions on producer and consumer spans', () => {
    const { sendStudent, processStudent, sendBilling, processBilling } = chain;
    for (const [span, topic, operation, group] of [
      [sendStudent, 'student', 'send'],
      [processStudent, 'student', 'process', 'billing-consumer'],
      [sendBilling, 'student-billing', 'send'],
      [processBilling, 'student-billing', 'process', 'notifier-consumer'],
    ]) {
      const label = `${span.name} (${span.service})`;
      assert.equal(span.tags['messaging.system'], 'kafka', label);
      assert.equal(span.tags['messaging.destination.name'], topic, label);
      assert.equal(span.tags['messaging.operation.type'], operation, label);
      assert.equal(span.tags['messaging.operation.name'], operation, label);
      assert.equal(span.tags['messaging.kafka.message.key'], student.id, `${label}: keyed by the student id`);
      if (group) {
        assert.equal(span.tags['messaging.consumer.group.name'], group, label);
        assert.match(String(span.tags['messaging.destination.partition.id']), /^\d+$/, label);
        assert.match(String(span.tags['messaging.kafka.offset']), /^\d+$/, label);
      }
    }
  });

  it('carries the database attributes on the pg spans', () => {
    for (const span of [chain.insert, chain.update]) {
      assert.equal(span.tags['db.system.name'], 'postgresql', span.name);
      assert.equal(span.tags['db.namespace'], 'students', span.name);
      assert.match(String(span.tags['db.query.text']), /"?students"?/, span.name);
    }
  });

  it('is not surrounded by stray traces: every trace of every service starts with a request to api-service', async () => {
    // TypeORM's start-up queries, readiness probes and Kafka's own traffic would each make a
    // one-span trace without the pg instrumentation's requireParentSpan and the ignored /health.
    for (const service of SERVICES) {
      // A consumer span started with KAFKA_CONSUMER_TRACE=link (consumer-trace.e2e.test.mjs) is a root by
      // design, linked to the send span of its message: it is no stray.
      const strays = (await rootSpans(service)).filter(
        (root) => (root.kind !== 'server' || root.service !== 'api-service') && !(root.kind === 'consumer' && root.links.length > 0),
      );
      assert.deepEqual(strays.map((root) => `${root.name} (${root.service})`), [], `${service}: traces not started by a request`);
    }
  });

  it('has no span in error', () => {
    const errors = spans.filter((s) => s.tags['otel.status_code'] === 'ERROR' || s.tags.error === true);
    assert.deepEqual(errors.map((s) => s.name), []);
  });

  it('crossed Kafka in a W3C traceparent header naming the producer span', async () => {
    const { sendStudent, processStudent } = chain;
    const headers = await messageHeaders(
      'student',
      Number(processStudent.tags['messaging.destination.partition.id']),
      processStudent.tags['messaging.kafka.offset'],
    );
    assert.match(headers.traceparent, new RegExp(`^00-${traceId}-${sendStudent.spanId}-01$`));
  });

  it('billed the student: the fee is in Postgres and in GET /api/v1/students/:id', async () => {
    const [row] = await query('SELECT fee_cents, created_at FROM students WHERE id = $1', [student.id]);
    assert.equal(row.fee_cents, expectedFeeCents(row.created_at));
    const response = await fetch(`${env.apiUrl}/api/v1/students/${student.id}`);
    assert.equal(response.status, 200);
    const fetched = await response.json();
    assert.equal(fetched.feeCents, row.fee_cents);
    assert.ok(fetched.billedAt, 'billedAt is set');
  });

  it('logged "notification sent" with the trace id and the span id of `notify student`', async () => {
    const notifySpan = spans.find((s) => s.name === 'notify student');
    const line = await waitFor('the notifier log line', () =>
      serviceLogLines('notifier-consumer').find((l) => l.msg === 'notification sent' && l.studentId === student.id),
    );
    assert.equal(line.trace_id, traceId);
    assert.equal(line.span_id, notifySpan.spanId);
  });

  it('has a log line in each service carrying the trace id', () => {
    for (const [service, message] of [
      ['api-service', 'student registered'],
      ['billing-consumer', 'student billed'],
      ['notifier-consumer', 'notification sent'],
    ]) {
      const lines = serviceLogLines(service).filter((l) => l.studentId === student.id && l.msg === message);
      assert.equal(lines.length, 1, `${service}: one "${message}" line for the student`);
      assert.ok(!JSON.stringify(lines[0]).includes(student.firstname), `${service}: the student by id, never by name`);
      assert.equal(lines[0].trace_id, traceId, `${service}: its trace id`);
      assert.ok(spans.some((s) => s.spanId === lines[0].span_id && s.service === service), `${service}: a span of the trace`);
    }
  });

  it('stored the same lines as log records in VictoriaLogs, by way of the collector, tied to the trace', async () => {
    const records = await waitFor('the three log records in the store', async () => {
      const found = await storedLogRecords(`trace_id:${traceId}`);
      return found.length >= 3 ? found : undefined;
    });
    assert.deepEqual(
      records.map((record) => `${record['service.name']}: ${record._msg}`).sort(),
      ['api-service: student registered', 'billing-consumer: student billed', 'notifier-consumer: notification sent'],
    );
    for (const record of records) {
      assert.ok(spans.some((s) => s.spanId === record.span_id && s.service === record['service.name']), `"${record._msg}" names a span of its service in the trace`);
    }
  });
});

describe('an invalid body', () => {
  it('is answered 400, writes no row, produces no message, and is traced as a 400', async () => {
    const [{ count: rowsBefore }] = await query('SELECT count(*)::int AS count FROM students');
    const offsetsBefore = await topicEndOffsets('student');

    const response = await postStudent({ firstname: 'Eve', lastname: '', role: 'admin' });
    assert.equal(response.status, 400);
    const body = await response.json();
    assert.match(body.message.join(' | '), /lastname should not be empty/);
    assert.match(body.message.join(' | '), /property role should not exist/);

    const { spans } = await waitForTrace(traceIdOf(response), (spans) => spans.some((s) => s.kind === 'server'));
    const server = spans.find((s) => s.kind === 'server');
    assert.equal(server.tags['http.response.status_code'], 400);
    assert.deepEqual(spans.filter((s) => s.kind !== 'server').map((s) => s.name), [], 'no pg or Kafka span');

    const [{ count: rowsAfter }] = await query('SELECT count(*)::int AS count FROM students');
    assert.equal(rowsAfter, rowsBefore, 'no row written');
    assert.equal(await topicEndOffsets('student'), offsetsBefore, 'no message produced');
  });
});

describe('text Postgres cannot store, or a body nested too deeply', () => {
  it('is answered 400 naming the problem, and writes no student and no outbox row', async () => {
    const rowCounts = async () =>
      (await query(`SELECT (SELECT count(*)::int FROM students) AS students, (SELECT count(*)::int FROM outbox WHERE topic = 'student') AS outbox`))[0];
    const before = await rowCounts();
    for (const [what, body, problem] of [
      ['a NUL character', '{"firstname":"Nul\\u0000","lastname":"Byte"}', /firstname must not contain a NUL character/],
      ['a lone surrogate', '{"firstname":"Lone","lastname":"\\ud800Surrogate"}', /lastname must be well-formed Unicode/],
      ['5,000 nested arrays', `${'['.repeat(5000)}${']'.repeat(5000)}`, /body is nested too deeply/],
    ]) {
      const response = await postStudent(body);
      const { message } = await response.json();
      assert.equal(response.status, 400, `${what}: ${JSON.stringify(message)}`);
      assert.match([message].flat().join(' | '), problem, what);
    }
    assert.deepEqual(await rowCounts(), before, 'no student row, no outbox row');
  });
});

describe('a restart of billing-consumer between two POSTs', () => {
  // Billing exports its spans once a minute here: those of the first student are still in the SDK's
  // batch queue when it stops, and reach Jaeger only if the shutdown flushes them.
  before(async () => {
    process.env.OTEL_BSP_SCHEDULE_DELAY = '60000';
    await stop('billing-consumer');
    await start('billing-consumer');
    delete process.env.OTEL_BSP_SCHEDULE_DELAY;
  });

  it('keeps both traces whole: spans queued at the stop are flushed, the message posted meanwhile is traced', async () => {
    const first = await registerStudent('Grace');
    // Stop billing as soon as it has handled the first student (and started again as configured).
    await waitFor('the notification of the first student', () =>
      serviceLogLines('notifier-consumer').some((l) => l.msg === 'notification sent' && l.studentId === first.student.id),
    );
    await stop('billing-consumer');
    const second = await registerStudent('Hedy');
    await start('billing-consumer');

    for (const { student, traceId } of [first, second]) {
      const { spans } = await waitForTrace(traceId, isComplete, 60_000);
      const { sendStudent, processStudent, processBilling } = pipelineSpans(spans);
      assert.equal(processStudent.parentId, sendStudent.spanId);
      assert.ok(spans.some((s) => s.name === 'bill student'), `${student.firstname}: the bill student span`);
      assert.deepEqual([...new Set(spans.map((s) => s.traceId))], [traceId]);
      assert.equal(processBilling.service, 'notifier-consumer');
      const [row] = await query('SELECT fee_cents FROM students WHERE id = $1', [student.id]);
      assert.ok(row.fee_cents > 0, `${student.firstname} is billed`);
    }
  });
});
