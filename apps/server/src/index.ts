import { CLIENT_COMMANDS } from './client/commands.js';

// Client commands (push, pull, ls, …) start without loading the server's modules.
if (CLIENT_COMMANDS.includes(process.argv[2] ?? '')) {
  const { runClientCli } = await import('./client/cli.js');
  await runClientCli();
} else {
  const { runCli } = await import('./cli.js');
  await runCli();
}
