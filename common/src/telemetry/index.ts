export { inSpan } from './in-span.js';
export { APP_ATTRIBUTES, APP_METRICS } from './attributes.js';
