/** For unit tests: spans and log records go to memory, context propagates across `await` as in the services. */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { after, before } from 'node:test';
import type { ModuleMetadata } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { Test, type TestingModule } from '@nestjs/testing';
import { context, logs, metrics, propagation, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { InMemoryLogRecordExporter, LoggerProvider, type ReadableLogRecord, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { type MetricData, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { PinoInstrumentation } from '@opentelemetry/instrumentation-pino';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { register } from 'import-in-the-middle/register-hooks.mjs';
import { instrumentations } from './telemetry/instrumentations.js';
import type { ConsumerRunConfig, Kafka } from './kafka-confluent/kafkajs-api.js';
import type { TelemetryEnvironment } from './config/environment.js';

export function useInMemoryTracing() {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  trace.setGlobalTracerProvider(provider);
  const logExporter = new InMemoryLogRecordExporter();
  const loggerProvider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: logExporter })] });
  logs.setGlobalLoggerProvider(loggerProvider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  return {
    provider,
    /** SimpleSpanProcessor exports asynchronously: flush before reading. */
    async finishedSpans(): Promise<ReadableSpan[]> {
      await provider.forceFlush();
      return exporter.getFinishedSpans();
    },
    async finishedLogRecords(): Promise<ReadableLogRecord[]> {
      await loggerProvider.forceFlush();
      return logExporter.getFinishedLogRecords();
    },
    reset: () => {
      exporter.reset();
      logExporter.reset();
    },
  };
}

let pinoInstrumentation: PinoInstrumentation | undefined;

/**
 * A testing module that logs as a service does: through `LoggingModule` (pino), each line also a log
 * record in `useInMemoryTracing`'s memory. Loads pino itself, after the hook the telemetry bootstrap
 * sets: a spec using it imports neither `nestjs-pino` nor `@demo/common/logging` (pino loaded first
 * elsewhere would not be instrumented).
 */
export async function withServiceLogger(metadata: ModuleMetadata): Promise<TestingModule> {
  pinoInstrumentation ??= (register({ include: ['pino'] }), new PinoInstrumentation());
  const { LoggingModule } = await import('./logging/index.js');
  const { NativeLogger } = await import('nestjs-pino');
  const moduleRef = await Test.createTestingModule({
    ...metadata,
    imports: [ConfigModule.forRoot({ ignoreEnvFile: true, isGlobal: true }), LoggingModule, ...(metadata.imports ?? [])],
  }).compile();
  moduleRef.useLogger(moduleRef.get(NativeLogger));
  return moduleRef;
}

/** Collects on demand, as the SDK's periodic reader does every few seconds. */
class OnDemandMetricReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** Metrics go to a global MeterProvider that a test reads when it wants; they add up over a file's tests. */
export function useOnDemandMetrics() {
  const reader = new OnDemandMetricReader();
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  return {
    async collected(): Promise<MetricData[]> {
      const { resourceMetrics } = await reader.collect();
      return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
    },
  };
}

/**
 * An HTTP server in this process, instrumented as the services are with `env`; `request` sends it a
 * POST with the `traceparent` header given (by fetch, which instrumentation-http does not trace) and
 * returns the server span, if one was recorded. One per test file: once `http` is patched, a second
 * set of instrumentations in the same process would not patch it again.
 */
export function useTracedHttpServer(tracing: ReturnType<typeof useInMemoryTracing>, env: Partial<TelemetryEnvironment>) {
  let enabled: ReturnType<typeof instrumentations> = [];
  let server: Server;
  let url: string;
  let activeInHandler: string | undefined;

  before(async () => {
    enabled = instrumentations(env);
    // Required after the instrumentations are enabled, so that their require hook patches it.
    const http = createRequire(import.meta.url)('node:http') as typeof import('node:http');
    server = http.createServer((_request, response) => {
      activeInHandler = trace.getActiveSpan()?.spanContext().spanId;
      response.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/students`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    enabled.forEach((instrumentation) => instrumentation.disable());
  });

  return async function request(traceparent?: string): Promise<ReadableSpan | undefined> {
    tracing.reset();
    activeInHandler = undefined;
    await (await fetch(url, { method: 'POST', headers: traceparent ? { traceparent } : {} })).text();
    const spans = (await tracing.finishedSpans()).filter((span) => span.kind === SpanKind.SERVER);
    assert.ok(spans.length <= 1, 'at most one server span');
    if (spans[0]) assert.equal(activeInHandler, spans[0].spanContext().spanId, 'the server span is active in the handler');
    return spans[0];
  };
}

/**
 * Without a broker a consumer fetches nothing: those `kafka` makes from now on hand what their `run`
 * is given to the test, which calls the handlers as the client's fetch loop would. Call it before
 * anything wraps `kafka`.
 */
export function handOverRuns(kafka: Kafka): () => ConsumerRunConfig {
  let handedOver: ConsumerRunConfig | undefined;
  const makeConsumer = kafka.consumer.bind(kafka);
  kafka.consumer = (config) =>
    Object.assign(makeConsumer(config), {
      run: async (runConfig: ConsumerRunConfig = {}) => {
        handedOver = runConfig;
      },
    });
  return () => {
    assert.ok(handedOver, 'run was called');
    return handedOver;
  };
}
