export { createApp, startMicroservices } from './create-app.js';
export { closeOnShutdownSignal } from './shutdown.js';
