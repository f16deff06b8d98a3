import { Command } from 'commander';

import { registerClientCommands } from './commands.js';

/**
 * The `elizabeth` program with only the client commands, for `src/index.ts` to run when the
 * first argument names one: a client command starts in a fraction of the time because the
 * server's modules (Fastify, Kysely, the S3 SDK…) are never loaded. Help and options are the
 * same registration `cli.ts` uses.
 */
export async function runClientCli(argv: string[] = process.argv): Promise<void> {
  const program = new Command('elizabeth').showHelpAfterError();
  registerClientCommands(program);
  await program.parseAsync(argv);
}
