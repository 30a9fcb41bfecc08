import { Injectable, type NestMiddleware } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import type { ServerResponse } from 'node:http';

/**
 * Answers every request with its trace id in a W3C `traceresponse` header
 * (`00-<trace id>-<span id>-<flags>`), so a caller can paste the trace id into Jaeger's search.
 */
@Injectable()
export class TraceResponseMiddleware implements NestMiddleware {
  use(_request: unknown, response: ServerResponse, next: () => void): void {
    const spanContext = trace.getActiveSpan()?.spanContext();
    if (spanContext) {
      const flags = spanContext.traceFlags.toString(16).padStart(2, '0');
      response.setHeader('traceresponse', `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`);
    }
    next();
  }
}
