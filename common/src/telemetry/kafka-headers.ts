import type { TextMapGetter } from '@opentelemetry/api';
import type { IHeaders } from 'kafkajs';

/**
 * Reads the trace context of a consumed Kafka message: kafkajs hands its header values over as
 * Buffers, and the propagators read strings.
 */
export const kafkaHeaderGetter: TextMapGetter<IHeaders | undefined> = {
  keys: (headers) => Object.keys(headers ?? {}),
  get: (headers, key) => {
    const value = headers?.[key];
    return Array.isArray(value) ? value.map(String) : value?.toString();
  },
};
