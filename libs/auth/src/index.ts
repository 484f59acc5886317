export * from './tokens.js';
export * from './guard.js';
