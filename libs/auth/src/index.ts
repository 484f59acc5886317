export * from './tokens.js';
export * from './guard.js';
export * from './team-scope.js';
