export { inSpan } from './in-span.js';
export { TraceAwareLogger } from './trace-aware.logger.js';
