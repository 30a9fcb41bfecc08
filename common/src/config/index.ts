export { ConsumerEnvironment, ServiceEnvironment, TelemetryEnvironment, validateEnvironment } from './environment.js';
