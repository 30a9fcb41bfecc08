export { STUDENT_BILLING_TOPIC, STUDENT_TOPIC, StudentBilledEvent, StudentRegisteredEvent } from './student.events.js';
