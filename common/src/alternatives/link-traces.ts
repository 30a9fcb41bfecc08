import { context, SpanKind, trace, type Tracer } from '@opentelemetry/api';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs';
import type { TelemetryEnvironment } from '../config/environment.js';

/**
 * `tracer`, except that a span of `kind` started in a remote span's context starts a new trace,
 * linked to that span. The instrumentations have no option for it; they start these spans with
 * `tracer.startSpan` in the extracted context, which this tracer turns into a root with a link.
 */
function linkingTracer(tracer: Tracer, kind: SpanKind): Tracer {
  return {
    startSpan(name, options = {}, parent = context.active()) {
      const remote = trace.getSpanContext(parent);
      if (options.kind !== kind || !remote?.isRemote) return tracer.startSpan(name, options, parent);
      return tracer.startSpan(name, { ...options, root: true, links: [...(options.links ?? []), { context: remote }] }, parent);
    },
    startActiveSpan: tracer.startActiveSpan.bind(tracer),
  };
}

class LinkClientTraceHttpInstrumentation extends HttpInstrumentation {
  protected override get tracer(): Tracer {
    return linkingTracer(super.tracer, SpanKind.SERVER);
  }
}

class LinkOnlyKafkaJsInstrumentation extends KafkaJsInstrumentation {
  protected override get tracer(): Tracer {
    return linkingTracer(super.tracer, SpanKind.CONSUMER);
  }
}

/**
 * The HTTP and kafkajs instrumentations' classes for two switches, for a span whose parent would
 * come from outside (a client's `traceparent`, or a Kafka message's):
 * - CLIENT_TRACEPARENT: `parent`, the default, makes the server span the child of the client's span,
 *   and the client's sampled flag decides. `link` starts a new trace linked to the client's span,
 *   sampled like any trace the service starts: right for a public API, whose clients are not yours.
 * - KAFKA_CONSUMER_TRACE: `parent`, the default, makes `process <topic>` the child of the send span
 *   (and links to it): one trace per request. `link` starts a new trace per hop, linked to the send
 *   span, as the OpenTelemetry demo, the Java agent and .NET do; each hop is sampled on its own.
 */
export function instrumentationClasses(env: Pick<TelemetryEnvironment, 'CLIENT_TRACEPARENT' | 'KAFKA_CONSUMER_TRACE'>) {
  return {
    Http: env.CLIENT_TRACEPARENT === 'link' ? LinkClientTraceHttpInstrumentation : HttpInstrumentation,
    KafkaJs: env.KAFKA_CONSUMER_TRACE === 'link' ? LinkOnlyKafkaJsInstrumentation : KafkaJsInstrumentation,
  };
}
