export { inSpan } from './in-span.js';
export { TraceAwareLogger } from './trace-aware.logger.js';
export { APP_ATTRIBUTES } from './attributes.js';
export { CLIENT_TRACEPARENT_SETTINGS } from './client-traceparent.js';
export { KAFKA_CONSUMER_TRACE_SETTINGS } from './kafka-consumer-trace.js';
export { kafkaHeaders } from './kafka-headers.js';
