/**
 * The Kafka header that carries a message's `eventId` (also in its value, where consumers read it).
 * The spans of both ends take `messaging.message.id` from it.
 */
export const EVENT_ID_HEADER = 'event-id';
