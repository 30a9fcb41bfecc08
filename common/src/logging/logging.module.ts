import { ConfigService } from '@nestjs/config';
import { LoggerModule } from 'nestjs-pino';
import type { ServiceEnvironment } from '../config/environment.js';

/**
 * The services' logger: pino, one JSON line per record on stdout. OpenTelemetry's pino
 * instrumentation (telemetry/instrumentations.ts) adds the active span's `trace_id` and `span_id`
 * to each line and sends the same record over OTLP, tied to that span. `createApp` makes it Nest's
 * logger, so Nest's own lines and kafkajs' (through Nest's Kafka transport) take the same way.
 */
export const LoggingModule = LoggerModule.forRootAsync({
  inject: [ConfigService],
  useFactory: (config: ConfigService<ServiceEnvironment, true>) => ({
    pinoHttp: [
      {
        level: config.get('LOG_LEVEL', 'info', { infer: true }),
        // Each request is a server span already; a line per request would say it again.
        autoLogging: false,
        // A line written during a request names it by a number only: no headers, no client address.
        quietReqLogger: true,
        // INFO, WARN, ERROR, as the log records' severity and the Go consumer's lines say.
        formatters: { level: (label: string) => ({ level: label.toUpperCase() }) },
      },
      // Node's stdout (synchronous to a file or a pipe), not pino's default buffered writer: a
      // process killed with -9 has written every line it logged until then.
      process.stdout,
    ],
    // `logger.log('student billed', { studentId })` gives a `studentId` field beside `msg`.
    nativeLogger: { flattenParams: true },
  }),
});
