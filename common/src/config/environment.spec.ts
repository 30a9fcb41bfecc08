import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DatabaseEnvironment } from '../database/database.environment.js';
import { ConsumerEnvironment, ServiceEnvironment, TelemetryEnvironment, validateEnvironment } from './environment.js';

const validate = validateEnvironment(ServiceEnvironment, DatabaseEnvironment, ConsumerEnvironment);
const valid = {
  PORT: '3001',
  KAFKA_BROKERS: 'kafka:9092,127.0.0.1:9094',
  DATABASE_URL: 'postgres://students:students@postgres:5432/students',
  KAFKA_CONSUMER_GROUP: 'billing-consumer',
};

describe('validateEnvironment', () => {
  it('accepts a complete environment and converts the port to a number', () => {
    assert.equal(validate(valid).PORT, 3001);
  });

  it('names every missing variable in one error', () => {
    assert.throws(
      () => validate({ PORT: '3001' }),
      (error: Error) =>
        /KAFKA_BROKERS: is not set/.test(error.message) &&
        /DATABASE_URL: is not set/.test(error.message) &&
        /KAFKA_CONSUMER_GROUP: is not set/.test(error.message),
    );
  });

  it('says what is wrong with a value', () => {
    assert.throws(() => validate({ ...valid, PORT: '70000' }), /PORT: PORT must not be greater than 65535/);
    assert.throws(() => validate({ ...valid, KAFKA_BROKERS: 'kafka' }), /KAFKA_BROKERS must be a comma-separated list of host:port/);
    assert.throws(() => validate({ ...valid, DATABASE_URL: 'mysql://x' }), /DATABASE_URL must be a postgres:\/\/ connection URL/);
    assert.throws(() => validate({ ...valid, KAFKA_CONSUMER_TRACE: 'links' }), /KAFKA_CONSUMER_TRACE must be one of the following values: parent, link/);
    assert.equal(validate({ ...valid, KAFKA_CONSUMER_TRACE: 'link' }).KAFKA_CONSUMER_TRACE, 'link');
    assert.throws(() => validate({ ...valid, CLIENT_TRACEPARENT: 'child' }), /CLIENT_TRACEPARENT: CLIENT_TRACEPARENT must be one of the following values: parent, link/);
    assert.equal(validate({ ...valid, CLIENT_TRACEPARENT: 'link' }).CLIENT_TRACEPARENT, 'link');
    assert.throws(() => validate({ ...valid, KAFKA_CONSUME: 'batch' }), /KAFKA_CONSUME must be one of the following values: each-message, each-batch/);
    assert.throws(() => validate({ ...valid, KAFKA_CLIENT: 'rdkafka' }), /KAFKA_CLIENT must be one of the following values: kafkajs, confluent/);
    assert.equal(validate({ ...valid, KAFKA_CLIENT: 'confluent' }).KAFKA_CLIENT, 'confluent');
    assert.throws(() => validate({ ...valid, DATABASE_POOL_SIZE: '0' }), /DATABASE_POOL_SIZE must not be less than 1/);
    assert.equal(validate({ ...valid, DATABASE_POOL_SIZE: '24' }).DATABASE_POOL_SIZE, 24);
  });

  it('checks what the telemetry bootstrap reads before the SDK starts, the switches included', () => {
    const telemetry = validateEnvironment(TelemetryEnvironment);
    assert.throws(() => telemetry({}), /KAFKA_BROKERS: is not set/);
    const brokers = { KAFKA_BROKERS: 'kafka:9092' };
    assert.equal(telemetry(brokers).KAFKA_BROKERS, 'kafka:9092', 'a producer has no consumer group');
    assert.throws(() => telemetry({ ...brokers, KAFKA_CONSUMER_GROUP: '' }), /KAFKA_CONSUMER_GROUP should not be empty/);
    assert.throws(() => telemetry({ ...brokers, SPAN_START_CLOCK: 'fast' }), /SPAN_START_CLOCK must be one of the following values: sdk, precise/);
    assert.throws(() => telemetry({ ...brokers, KAFKA_CONSUMER_TRACE: 'links' }), /KAFKA_CONSUMER_TRACE must be one of the following values: parent, link/);
  });
});
