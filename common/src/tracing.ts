/**
 * The telemetry bootstrap: the one place where tracing is set up for all three services.
 *
 * It is loaded BEFORE the application, with `node --import @demo/common/tracing dist/main.js`,
 * because an instrumentation can only patch a library that has not been loaded yet.
 * Everything is configured by the standard OTEL_* environment variables: OTEL_SERVICE_NAME,
 * OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER, OTEL_SDK_DISABLED...
 * Three of the project's own are read by the instrumentations (telemetry/instrumentations.ts):
 * KAFKA_CONSUMER_GROUP; CLIENT_TRACEPARENT, which decides whether a client's `traceparent` makes
 * a request part of the client's trace (`parent`, the default) or starts a new trace linked to it
 * (`link`); and KAFKA_CONSUMER_TRACE, the same choice for a consumer and the message it processes.
 * The attributes the project adds to spans are listed in telemetry/attributes.ts.
 * The set-up itself is in telemetry/start-tracing.ts.
 */
import { markTracingLoaded } from './telemetry/loaded-tracing.js';

// With OTEL_SDK_DISABLED=true the SDK would start as a no-op, but the loader hook would still wrap
// packages and the SDK's modules would still load: skipping both makes "tracing off" cost nothing.
if (process.env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') {
  markTracingLoaded({ shutdown: () => Promise.resolve() });
} else {
  const { startTracing } = await import('./telemetry/start-tracing.js');
  // `createApp` checks for this: without `--import` the service would run half instrumented.
  markTracingLoaded(startTracing());
}
