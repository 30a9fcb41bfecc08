import { ConsoleLogger, type LogLevel } from '@nestjs/common';
import { type AnyValue, logs, SeverityNumber, trace } from '@opentelemetry/api';

interface JsonLogOptions {
  context: string;
  logLevel: LogLevel;
  writeStreamType?: 'stdout' | 'stderr';
  errorStack?: unknown;
  params?: Record<string, unknown>;
  error?: Error;
}

const LOG_LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

const SEVERITY: Record<LogLevel, SeverityNumber> = {
  fatal: SeverityNumber.FATAL,
  error: SeverityNumber.ERROR,
  warn: SeverityNumber.WARN,
  log: SeverityNumber.INFO,
  debug: SeverityNumber.DEBUG,
  verbose: SeverityNumber.TRACE,
};

/**
 * Nest's JSON console logger, with two additions:
 * - each line carries the `trace_id` and `span_id` of the span active when it is written, so a log
 *   line inside a request or a message leads straight to its trace in Jaeger;
 * - each line is also emitted as an OpenTelemetry log record (the logs bridge), which the SDK exports
 *   over OTLP to the collector; the record is tied to the same trace and span.
 */
export class TraceAwareLogger extends ConsoleLogger {
  private readonly otelLogger = logs.getLogger('@demo/common');

  constructor(level: string = process.env.LOG_LEVEL ?? 'log') {
    const threshold = LOG_LEVELS.indexOf(level === 'info' ? 'log' : (level as LogLevel));
    super({ json: true, flattenParams: true, logLevels: LOG_LEVELS.slice(0, threshold < 0 ? 4 : threshold + 1) });
  }

  protected override getJsonLogObject(message: unknown, options: JsonLogOptions) {
    const logObject = super.getJsonLogObject(message, options);
    const spanContext = trace.getActiveSpan()?.spanContext();
    return spanContext ? { ...logObject, trace_id: spanContext.traceId, span_id: spanContext.spanId } : logObject;
  }

  protected override printAsJson(message: unknown, options: JsonLogOptions): void {
    super.printAsJson(message, options);
    this.otelLogger.emit({
      severityNumber: SEVERITY[options.logLevel],
      severityText: options.logLevel,
      body: typeof message === 'string' ? message : JSON.stringify(message),
      attributes: {
        ...(options.context ? { 'log.context': options.context } : {}),
        ...(options.params as Record<string, AnyValue> | undefined),
        ...(options.error ? { 'exception.type': options.error.name, 'exception.message': options.error.message } : {}),
      },
    });
  }
}
