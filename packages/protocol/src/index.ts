/** Bumped when the HTTP or WebSocket contract changes incompatibly. */
export const PROTOCOL_VERSION = 1;
export const API_PREFIX = '/api/v1';

export * from './admin.js';
export * from './contents.js';
export * from './errors.js';
export * from './room-name.js';
export * from './rooms.js';
export * from './service.js';
export * from './sessions.js';
export * from './ws.js';
