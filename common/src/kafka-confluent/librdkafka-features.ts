/**
 * librdkafka, compiled at `npm ci` where its prebuilt binary cannot be downloaded, leaves out without
 * a word every feature whose Debian -dev package was missing: a consumer built without zstd then fails
 * on the first zstd-compressed batch another producer wrote, one without TLS cannot reach a managed
 * cluster. The features a fork may need, and the package each one is compiled from.
 */
const FEATURE_PACKAGES: Record<string, string> = {
  gzip: 'zlib1g-dev',
  zstd: 'libzstd-dev',
  ssl: 'libssl-dev',
  sasl_scram: 'libssl-dev',
  sasl_gssapi: 'libsasl2-dev',
  // Built in whatever the machine has; listed so that a build that lost them is noticed too.
  snappy: 'librdkafka itself',
  lz4: 'librdkafka itself (liblz4-dev where present)',
  sasl_plain: 'librdkafka itself',
  sasl_oauthbearer: 'librdkafka itself',
};

/** Throws, naming what to install and how to rebuild, unless `features` holds every one above. */
export function assertLibrdkafkaFeatures(features: readonly string[]): void {
  const missing = Object.keys(FEATURE_PACKAGES).filter((feature) => !features.includes(feature));
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((feature) => FEATURE_PACKAGES[feature]!).filter((name) => name.endsWith('-dev')))];
  throw new Error(
    `@confluentinc/kafka-javascript was built without ${missing.join(', ')}: ` +
      `apt-get install ${packages.join(' ')}, then ` +
      'CKJS_LINKING=dynamic npm rebuild @confluentinc/kafka-javascript (docs/known-limits.md#the-confluent-client-built-here)',
  );
}
