/**
 * How the application reaches the telemetry bootstrap without importing it: `tracing.ts` leaves its
 * shutdown here when `node --import @demo/common/tracing` has loaded it. An import would load it
 * itself, too late (kafkajs would already be loaded, unpatched) and without a word.
 */
const LOADED_TRACING = Symbol.for('@demo/common/tracing');

export interface LoadedTracing {
  /** Flushes the spans and log records still queued; call it after the application has closed. */
  shutdown(): Promise<void>;
}

export function markTracingLoaded(tracing: LoadedTracing): void {
  (globalThis as Record<symbol, unknown>)[LOADED_TRACING] = tracing;
}

/** The loaded telemetry bootstrap; throws, naming the fix, when the service was started without it. */
export function requireTracing(): LoadedTracing {
  const tracing = (globalThis as Record<symbol, unknown>)[LOADED_TRACING] as LoadedTracing | undefined;
  if (!tracing) {
    throw new Error(
      'The telemetry bootstrap is not loaded, so Kafka and Postgres would go untraced. Start the service with ' +
        '`node --import @demo/common/tracing dist/main.js` (set OTEL_SDK_DISABLED=true to run without tracing).',
    );
  }
  return tracing;
}
