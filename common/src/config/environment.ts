// class-transformer's @Type reads decorator metadata as the class is defined.
import 'reflect-metadata';
import { plainToInstance, Type } from 'class-transformer';
import { IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Matches, Max, Min, validateSync } from 'class-validator';

/**
 * What the telemetry bootstrap reads, validated before the SDK starts (start-tracing.ts); the SDK
 * itself reads the standard OTEL_* variables.
 */
export class TelemetryEnvironment {
  /** Comma-separated `host:port` list. */
  @Matches(/^[^\s,:]+:\d+(,[^\s,:]+:\d+)*$/, { message: 'KAFKA_BROKERS must be a comma-separated list of host:port' })
  KAFKA_BROKERS: string;

  /** The service's name in traces, read by the SDK; also its Kafka client id. */
  @IsOptional()
  @IsString()
  OTEL_SERVICE_NAME?: string;

  /** On consumer spans; required of a consumer by ConsumerEnvironment. */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  KAFKA_CONSUMER_GROUP?: string;

  /** The alternatives of alternatives/link-traces.ts. */
  @IsOptional()
  @IsIn(['parent', 'link'])
  CLIENT_TRACEPARENT?: 'parent' | 'link';

  @IsOptional()
  @IsIn(['parent', 'link'])
  KAFKA_CONSUMER_TRACE?: 'parent' | 'link';

  /** `precise`: the opt-in alternatives/span-start-clock.ts. */
  @IsOptional()
  @IsIn(['sdk', 'precise'])
  SPAN_START_CLOCK?: 'sdk' | 'precise';
}

/** What every service needs. */
export class ServiceEnvironment extends TelemetryEnvironment {
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(65535)
  PORT: number;

  /** The address HTTP listens on; every interface when unset (a container's port is published by compose). */
  @IsOptional()
  @IsString()
  HOST?: string;

  @IsOptional()
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace'])
  LOG_LEVEL?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

  /** `kafkajs` (the default) or `confluent` (kafka-confluent/confluent-transport.ts), for producing and consuming. */
  @IsOptional()
  @IsIn(['kafkajs', 'confluent'])
  KAFKA_CLIENT?: 'kafkajs' | 'confluent';
}

/** What a Kafka consumer needs. */
export class ConsumerEnvironment {
  @IsString()
  @IsNotEmpty()
  KAFKA_CONSUMER_GROUP: string;

  /** `each-message` (Nest's Kafka server, the default) or `each-batch` (alternatives/each-batch-kafka.server.ts). */
  @IsOptional()
  @IsIn(['each-message', 'each-batch'])
  KAFKA_CONSUME?: 'each-message' | 'each-batch';
}

type Constructor<T> = new () => T;

/**
 * A `validate` function for `ConfigModule.forRoot`: checks the environment against each class and
 * fails at start-up with one line per wrong or missing variable, naming it.
 */
export function validateEnvironment(...classes: Constructor<object>[]) {
  return (environment: Record<string, unknown>): Record<string, unknown> => {
    const problems: string[] = [];
    let validated: Record<string, unknown> = { ...environment };
    for (const cls of classes) {
      // Each class converts its own variables (PORT to a number...) and passes the others through.
      const instance = plainToInstance(cls, validated);
      for (const error of validateSync(instance, { skipMissingProperties: false })) {
        const value = environment[error.property];
        const detail = value === undefined ? 'is not set' : Object.values(error.constraints ?? {}).join('; ');
        problems.push(`  ${error.property}: ${detail}`);
      }
      validated = { ...validated, ...instance };
    }
    if (problems.length > 0) {
      throw new Error(`Invalid environment:\n${problems.join('\n')}`);
    }
    return validated;
  };
}
