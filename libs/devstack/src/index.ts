export * from './processes.js';
export * from './demo.js';
