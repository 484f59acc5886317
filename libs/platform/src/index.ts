export * from './errors.js';
export * from './http.js';
export * from './tokens.js';
export * from './fast-lane.js';
export { Runtime } from './runtime.js';
export { PlatformModule } from './platform.module.js';
export { startService, runMain, type ServiceDefinition, type StartOptions, type RunningService } from './bootstrap.js';
export { AUTH_MIGRATIONS } from './principals.js';
export * from './team-owners.js';
