import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { confluentClient } from './confluent-client.js';
import { assertLibrdkafkaFeatures } from './librdkafka-features.js';

describe('the confluent client that npm ci built', () => {
  it('is installed, with every compression codec, TLS and each SASL mechanism', async () => {
    const { librdkafkaVersion } = confluentClient();
    assert.match(librdkafkaVersion, /^2\./);
  });

  it('a service asking for it where it is not installed is told why', () => {
    assert.throws(() => confluentClient('@confluentinc/not-installed'), {
      message: /^KAFKA_CLIENT=confluent, but @confluentinc\/not-installed is not installed: npm ci leaves it out when librdkafka does not compile/,
    });
  });

  it('a build without them names what to install', () => {
    assert.throws(() => assertLibrdkafkaFeatures(['gzip', 'snappy', 'lz4', 'ssl', 'sasl_plain', 'sasl_scram', 'sasl_oauthbearer']), {
      message: /built without zstd, sasl_gssapi: apt-get install libzstd-dev libsasl2-dev, then CKJS_LINKING=dynamic npm rebuild/,
    });
  });
});
