export { CreateOutbox1764000000001 } from './migrations/1764000000001-create-outbox.js';
export { type Change, type Event, Outbox } from './outbox.js';
export { OutboxModule } from './outbox.module.js';
