/** Injection tokens for what the platform provides to every service module. */
export const LOGGER = Symbol('KLAXON_LOGGER');
export const METRICS = Symbol('KLAXON_METRICS');
export const PRODUCER = Symbol('KLAXON_PRODUCER');
export const KAFKA = Symbol('KLAXON_KAFKA');
export const RUNTIME = Symbol('KLAXON_RUNTIME');
