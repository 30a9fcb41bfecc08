export { DeadLetterInterceptor, deadLetterTopic } from './dead-letters.js';
export { EventPublisher } from './event-publisher.js';
export { KafkaProducerModule } from './kafka-producer.module.js';
export { kafkaConsumerOptions, kafkaProducerOptions } from './kafka-options.js';
export { InvalidEventError, ParseEventPipe } from './parse-event.js';
export { withHeartbeats } from './heartbeats.js';
