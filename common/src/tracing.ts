/**
 * The telemetry bootstrap of every service, loaded before the application so that the
 * instrumentations can patch kafkajs, pg and http before anything imports them:
 * `node --import @demo/common/tracing dist/main.js`. Configured by the standard OTEL_* variables;
 * the set-up is telemetry/start-tracing.ts.
 */
import { markTracingLoaded } from './telemetry/loaded-tracing.js';

// Tracing off costs nothing: neither the SDK nor the loader hook is loaded.
if (process.env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') {
  markTracingLoaded({ shutdown: () => Promise.resolve() });
} else {
  const { startTracing } = await import('./telemetry/start-tracing.js');
  // `createApp` checks for this: without `--import` the service would run half instrumented.
  markTracingLoaded(startTracing());
}
