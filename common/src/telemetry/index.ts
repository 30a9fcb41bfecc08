export { inSpan } from './in-span.js';
export { TraceAwareLogger } from './trace-aware.logger.js';
export { APP_ATTRIBUTES, APP_METRICS } from './attributes.js';
