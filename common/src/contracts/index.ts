export { STUDENT_BILLING_TOPIC, STUDENT_TOPIC, StudentBilledEvent, StudentRegisteredEvent } from './student.events.js';
export { EVENT_ID_HEADER } from './headers.js';
