export { HealthModule } from './health.module.js';
export { KafkaHealthIndicator } from './kafka.health.js';
export { ReadinessChecks } from './readiness-checks.js';
