/** Runs one client command: environment, language, room, session; errors become exit codes. */
import { Writable } from 'node:stream';
import { createInterface } from 'node:readline/promises';

import { parseRoomAddress } from './address.js';
import { type PasswordSource, RoomClient } from './api.js';
import { readClientEnv } from './env.js';
import { ClientError, EXIT } from './errors.js';
import { pickLang, type Translate, translator } from './i18n.js';
import { TokenCache } from './token-cache.js';

export interface CommonClientOptions {
  server?: string;
  password?: string;
  lang?: string;
  json?: boolean;
  progress?: boolean;
}

type Options = CommonClientOptions & Record<string, unknown>;

export async function runClientCommand(
  command: string,
  args: (string | string[] | undefined)[],
  given: CommonClientOptions,
): Promise<void> {
  const options = given as Options;
  const env = readClientEnv();
  const t = translator(pickLang(options.lang, env.locale));
  const write = (line: string) => process.stdout.write(`${line}\n`);
  try {
    const address = parseRoomAddress(String(args[0]), options.server ?? env.serverUrl, t);
    const password: PasswordSource = {
      given: options.password ?? env.password,
      prompt:
        process.stdin.isTTY && process.stderr.isTTY
          ? () => promptPassword(t('password_prompt', { room: address.room }))
          : undefined,
    };
    const client = new RoomClient(address, new TokenCache(env.cacheDir), password, t);
    const json = options.json === true;
    const progress = options.progress !== false && !json && process.stderr.isTTY === true;
    switch (command) {
      case 'push': {
        const { push } = await import('./push.js');
        const results = await push(
          client,
          args[1] as string[],
          {
            ...(typeof options.name === 'string' ? { name: options.name } : {}),
            again: options.again === true,
            parallel: Number(options.parallel ?? 3),
            ...(typeof options.chunkSize === 'number' ? { chunkSize: options.chunkSize } : {}),
            json,
            progress,
          },
          env.cacheDir,
          t,
          process.stdin,
        );
        if (json) write(JSON.stringify(results, null, 2));
        break;
      }
      case 'pull': {
        const { pull } = await import('./pull.js');
        const results = await pull(
          client,
          args[1] as string[],
          {
            out: typeof options.out === 'string' ? options.out : '.',
            all: options.all === true,
            zip: options.zip === true,
            force: options.force === true,
            json,
            progress: progress && options.out !== '-',
          },
          t,
          process.stdout,
        );
        if (json && options.out !== '-') write(JSON.stringify(results, null, 2));
        break;
      }
      case 'ls': {
        const { ls } = await import('./room.js');
        await ls(client, json, write, t);
        break;
      }
      case 'send': {
        const { send } = await import('./room.js');
        const raw = args[1] as string | undefined;
        const text = raw === '-' ? await readAll(process.stdin) : raw;
        const link = typeof options.link === 'string' ? options.link : undefined;
        const created = await send(client, text, link, t);
        write(json ? JSON.stringify(created, null, 2) : t('sent', { id: created.id }));
        break;
      }
      case 'tail': {
        const { tail } = await import('./room.js');
        await tail(
          client,
          { follow: options.follow === true, lines: Number(options.lines ?? 20), json },
          write,
          t,
        );
        break;
      }
      case 'open': {
        const { open } = await import('./room.js');
        await open(client, write);
        break;
      }
      case 'share': {
        const { share } = await import('./share.js');
        await share(
          client,
          {
            editOnly: options.editOnly === true,
            edit: options.edit === true,
            ...(typeof options.expires === 'string' ? { expires: options.expires } : {}),
            ...(typeof options.maxUses === 'number' ? { maxUses: options.maxUses } : {}),
            ...(typeof options.linkPassword === 'string' ? { password: options.linkPassword } : {}),
            json,
          },
          write,
        );
        break;
      }
      default:
        throw new ClientError(`unknown command ${command}`, EXIT.USAGE);
    }
  } catch (error) {
    report(error, t);
  }
}

function report(error: unknown, _t: Translate): void {
  if (error instanceof ClientError) {
    process.stderr.write(`elizabeth: ${error.message}${error.code ? ` (${error.code})` : ''}\n`);
    process.exitCode = error.exitCode;
    return;
  }
  process.stderr.write(`elizabeth: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = EXIT.OTHER;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Asks on the terminal without echoing what is typed. */
async function promptPassword(question: string): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (!muted) process.stderr.write(chunk);
      cb();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  try {
    const answer = rl.question(question);
    muted = true;
    const value = await answer;
    process.stderr.write('\n');
    return value;
  } finally {
    rl.close();
  }
}
