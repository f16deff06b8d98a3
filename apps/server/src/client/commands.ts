/**
 * Registers the terminal client's commands (push, pull, ls, send, tail, open, completions) on
 * the `elizabeth` program. Only commander is loaded here: each action imports the client when
 * it runs, so `elizabeth serve` never loads it.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';

import type { CommonClientOptions } from './run.js';

const USAGE_EXIT = 2;

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('a positive integer');
  return n;
}

function clientCommand(program: Command, spec: string, description: string): Command {
  return program
    .command(spec)
    .description(description)
    .addOption(new Option('-s, --server <url>', 'server for a bare room name (also ELIZABETH_URL)'))
    .addOption(
      new Option('--password <password>', 'room password (also ELIZABETH_PASSWORD; else asked on a TTY)'),
    )
    .addOption(new Option('--lang <lang>', 'language of the messages').choices(['en', 'zh']))
    .exitOverride((error) => {
      // commander has printed the problem already; usage errors exit with 2 (help/version 0)
      process.exit(error.exitCode === 0 ? 0 : USAGE_EXIT);
    });
}

type Runner = (
  command: string,
  args: (string | string[] | undefined)[],
  options: CommonClientOptions,
) => Promise<void>;

const run: Runner = async (command, args, options) => {
  const { runClientCommand } = await import('./run.js');
  await runClientCommand(command, args, options);
};

export function registerClientCommands(program: Command): void {
  clientCommand(program, 'push', 'upload files, directories or stdin (-) to a room, resumably')
    .argument('<room>', 'room URL (https://host/room, host:port/room) or name')
    .argument('<paths...>', 'files, directories, or - for stdin')
    .option('--name <name>', 'the name of a single file or of stdin in the room')
    .option('--again', 'also send files an earlier run already uploaded to this room')
    .option('--parallel <n>', 'files uploaded at the same time', positiveInt, 3)
    .option(
      '--chunk-size <bytes>',
      'bytes per PATCH request (default: the whole file in one PATCH)',
      positiveInt,
    )
    .option('--json', 'print the result as JSON')
    .option('--no-progress', 'no progress bars, even on a terminal')
    .action((room: string, paths: string[], options: CommonClientOptions) =>
      run('push', [room, paths], options),
    );

  clientCommand(program, 'pull', 'download files of a room (resumable), all of them, or a zip')
    .argument('<room>', 'room URL or name')
    .argument('[items...]', 'file names or ids')
    .option('-o, --out <dir>', 'directory to save into; - writes one file (or the zip) to stdout', '.')
    .option('--all', 'every file of the room')
    .option('--zip', "the room's zip archive (files and messages.md), or of the named files")
    .option('-f, --force', 'overwrite existing files')
    .option('--json', 'print the result as JSON')
    .option('--no-progress', 'no progress bars, even on a terminal')
    .action((room: string, items: string[], options: CommonClientOptions) =>
      run('pull', [room, items], options),
    );

  clientCommand(program, 'ls', "list a room's files, links and messages with sizes and times")
    .argument('<room>', 'room URL or name')
    .option('--json', 'print the contents as JSON')
    .action((room: string, options: CommonClientOptions) => run('ls', [room], options));

  clientCommand(program, 'send', 'post a message (text, or - for stdin) or a link')
    .argument('<room>', 'room URL or name')
    .argument('[text]', 'the message, or - to read it from stdin')
    .option('--link <url>', 'post this link instead (the text becomes its name)')
    .option('--json', 'print the created content as JSON')
    .action((room: string, text: string | undefined, options: CommonClientOptions) =>
      run('send', [room, text], options),
    );

  clientCommand(program, 'tail', "print a room's messages; -f follows messages, files and presence")
    .argument('<room>', 'room URL or name')
    .option('-f, --follow', 'keep following over the WebSocket (reconnects on drops)')
    .option('-n, --lines <n>', 'how many of the last messages to print first', positiveInt, 20)
    .option('--json', 'one JSON object per line')
    .action((room: string, options: CommonClientOptions) => run('tail', [room], options));

  clientCommand(program, 'open', "print the room's address and its QR code")
    .argument('<room>', 'room URL or name')
    .action((room: string, options: CommonClientOptions) => run('open', [room], options));

  clientCommand(program, 'share', 'create a share link of the room (needs a managing session) and print it')
    .argument('<room>', 'room URL or name')
    .option('--edit-only', 'a drop box: visitors upload and post, and see nothing')
    .option('--edit', 'visitors view and also upload and post')
    .option('--expires <duration>', "how long the link lives (1d, 12h, 30m); default: the room's expiry")
    .option('--max-uses <n>', 'how many times the link may be opened', positiveInt)
    .option('--link-password <password>', 'a password for the link')
    .option('--json', 'print the link as JSON')
    .action((room: string, options: CommonClientOptions) => run('share', [room], options));

  program
    .command('completions')
    .description('print the shell completion script (bash, zsh or fish)')
    .argument('<shell>', 'bash, zsh or fish')
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : USAGE_EXIT))
    .action(async (shell: string) => {
      const { completionScript } = await import('./completions.js');
      const script = completionScript(shell);
      if (script === undefined) {
        process.stderr.write(`elizabeth: unsupported shell "${shell}": bash, zsh or fish\n`);
        process.exitCode = USAGE_EXIT;
        return;
      }
      process.stdout.write(script);
    });
}
