export { ConsumerEnvironment, ServiceEnvironment, validateEnvironment } from './environment.js';
