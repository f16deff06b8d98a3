/** The first arguments that run a client command (src/index.ts starts only the client for them). */
export const CLIENT_COMMANDS = ['push', 'pull', 'ls', 'send', 'tail', 'open', 'share', 'completions'];
