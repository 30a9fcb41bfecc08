/**
 * The kafkajs `clientId` of a service's producer and consumer, which its spans carry as
 * `messaging.client.id`. No imports: the telemetry bootstrap reads it before kafkajs may be loaded.
 */
export function kafkaClientId(serviceName: string | undefined): string {
  return serviceName ?? 'nestjs-kafka-tracing';
}
