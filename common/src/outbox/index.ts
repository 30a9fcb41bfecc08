export { CreateOutbox1764000000001 } from './migrations/1764000000001-create-outbox.js';
export { Outbox, outboxValues } from './outbox.js';
export { OutboxMessage } from './outbox-message.entity.js';
export { OutboxModule } from './outbox.module.js';
