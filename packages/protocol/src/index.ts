export * from './constants.js';

export * from './admin.js';
export * from './contents.js';
export * from './errors.js';
export * from './rooms.js';
export * from './service.js';
export * from './sessions.js';
export * from './share-links.js';
export * from './ws.js';
