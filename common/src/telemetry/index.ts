export { inSpan } from './in-span.js';
export { TraceAwareLogger } from './trace-aware.logger.js';
export { APP_ATTRIBUTES } from './attributes.js';
export { kafkaHeaders } from './kafka-headers.js';
