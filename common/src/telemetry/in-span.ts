import { type Attributes, type Span, SpanStatusCode, trace } from '@opentelemetry/api';

const tracer = trace.getTracer('@demo/common');

/**
 * Runs `work` inside a new span that is the active one meanwhile, so that the pg and Kafka spans it
 * causes become its children. An error is recorded on the span and rethrown.
 * NestJS 12 has no working nestjs-core instrumentation: business spans are made by hand, like this.
 */
export function inSpan<T>(name: string, attributes: Attributes, work: (span: Span) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}
