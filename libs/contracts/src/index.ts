export * from './topics.js';
export * from './envelope.js';
export * from './events.js';
export * from './validate.js';
export * from './urgency.js';
