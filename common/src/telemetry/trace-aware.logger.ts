import { ConsoleLogger, type LogLevel } from '@nestjs/common';
import { trace } from '@opentelemetry/api';

interface JsonLogOptions {
  context: string;
  logLevel: LogLevel;
  writeStreamType?: 'stdout' | 'stderr';
  errorStack?: unknown;
  params?: Record<string, unknown>;
  error?: Error;
}

const LOG_LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/**
 * Nest's JSON console logger, plus the `trace_id` and `span_id` of the span active when the line is
 * written: a log line inside a request or a message leads straight to its trace in Jaeger.
 */
export class TraceAwareLogger extends ConsoleLogger {
  constructor(level: string = process.env.LOG_LEVEL ?? 'log') {
    const threshold = LOG_LEVELS.indexOf(level === 'info' ? 'log' : (level as LogLevel));
    super({ json: true, flattenParams: true, logLevels: LOG_LEVELS.slice(0, threshold < 0 ? 4 : threshold + 1) });
  }

  protected override getJsonLogObject(message: unknown, options: JsonLogOptions) {
    const logObject = super.getJsonLogObject(message, options);
    const spanContext = trace.getActiveSpan()?.spanContext();
    return spanContext ? { ...logObject, trace_id: spanContext.traceId, span_id: spanContext.spanId } : logObject;
  }
}
