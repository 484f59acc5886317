export * from './correlation.js';
export * from './logger.js';
export * from './metrics.js';
