export * from './infra.js';
export * from './kafka-tap.js';
export * from './smtp-sink.js';
export * from './world.js';
export * from './scenario.js';
export * from './alertmanager.js';
