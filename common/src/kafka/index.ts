export { DeadLetters, deadLetterTopic } from './dead-letters.js';
export { EventPublisher } from './event-publisher.js';
export { EventsModule } from './events.module.js';
export { kafkaConsumerOptions, kafkaProducerOptions } from './kafka-options.js';
export { InvalidEventError, parseEvent } from './parse-event.js';
export { withHeartbeats } from './heartbeats.js';
