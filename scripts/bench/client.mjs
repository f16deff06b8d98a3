// The terminal client against curl: `elizabeth push` (tus-js-client, the server's chunk size)
// and `elizabeth pull` of the same file, each timed as a whole process run (start-up included)
// beside curl doing the same transfer (one tus PATCH of the whole file; one GET) in the same
// round, alternating who goes first. Every downloaded copy is checked by SHA-256.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import { MiB, json, median, timed } from './lib.mjs';

function run(command, args, env = {}) {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { env: { ...process.env, ...env }, maxBuffer: 64 * MiB },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${command} ${args.slice(0, 3).join(' ')}: ${error.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

function sha256File(path) {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => hash.update(c))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}

/**
 * Runs `rounds` rounds of push and pull against curl; adds the rows `client_push` and
 * `client_pull` (MiB/s, target ≥ 0.8 × curl) through `row`.
 */
export async function clientTransfers({
  base,
  work,
  source,
  size,
  sourceSha,
  rounds,
  serverBin,
  log,
  row,
  fail,
  room = 'bench-client',
}) {
  await json(`${base}/api/v1/rooms/${room}`, {
    method: 'POST',
    body: { max_size: 16 * 1024 * MiB, max_times_entered: 1000 },
  });
  const { token } = await json(`${base}/api/v1/rooms/${room}/tokens`, { method: 'POST', body: {} });
  const auth = `Authorization: Bearer ${token}`;
  const env = { ELIZABETH_CACHE_DIR: join(work, 'client-cache'), NO_COLOR: '1' };
  const elizabeth = (args) => run(process.execPath, [serverBin, ...args], env);
  const mibs = (ms) => size / MiB / (ms / 1000);
  const samples = { push: [], curlPush: [], pull: [], curlPull: [] };
  const dir = join(work, 'client-pulled');

  const curlPush = async (name) => {
    const meta = `filename ${Buffer.from(name).toString('base64')},filetype ${Buffer.from('application/octet-stream').toString('base64')}`;
    const { ms } = await timed(async () => {
      const headers = await run('curl', [
        '-sS',
        '-o',
        '/dev/null',
        '-D',
        '-',
        '-X',
        'POST',
        '-H',
        auth,
        '-H',
        'Tus-Resumable: 1.0.0',
        '-H',
        `Upload-Length: ${size}`,
        '-H',
        `Upload-Metadata: ${meta}`,
        `${base}/api/v1/rooms/${room}/uploads`,
      ]);
      const location = /^location:\s*(\S+)/im.exec(headers)?.[1];
      if (!location) throw new Error(`tus creation by curl gave no Location: ${headers}`);
      const code = await run('curl', [
        '-sS',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '-X',
        'PATCH',
        '-H',
        auth,
        '-H',
        'Tus-Resumable: 1.0.0',
        '-H',
        'Upload-Offset: 0',
        '-H',
        'Content-Type: application/offset+octet-stream',
        '-H',
        'Expect:',
        '-T',
        source,
        new URL(location, base).toString(),
      ]);
      if (code !== '204') throw new Error(`curl PATCH answered ${code}`);
    });
    samples.curlPush.push(mibs(ms));
  };
  const clientPush = async (name) => {
    const { ms, result } = await timed(() =>
      elizabeth(['push', `${base}/${room}`, source, '--name', name, '--again', '--json', '--no-progress']),
    );
    const [pushed] = JSON.parse(result);
    if (pushed?.size !== size) fail(`elizabeth push: ${result.slice(0, 200)}`);
    samples.push.push(mibs(ms));
  };

  for (let round = 0; round < rounds; round++) {
    const clientFirst = round % 2 === 1;
    const name = `client-${round}.bin`;
    try {
      if (clientFirst) {
        await clientPush(name);
        await curlPush(`curl-${name}`);
      } else {
        await curlPush(`curl-${name}`);
        await clientPush(name);
      }
      const contents = await json(`${base}/api/v1/rooms/${room}/contents?type=file`, {
        headers: { authorization: `Bearer ${token}` },
      });
      const content = contents.find((c) => c.file_name === name);
      const pullOnce = async () => {
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir, { recursive: true });
        const { ms } = await timed(() =>
          elizabeth(['pull', `${base}/${room}`, String(content.id), '-o', dir, '--no-progress']),
        );
        samples.pull.push(mibs(ms));
        if ((await sha256File(join(dir, name))) !== sourceSha) fail('elizabeth pull: SHA-256 differs');
      };
      const curlOnce = async () => {
        const out = join(work, 'curl-pulled.bin');
        const { ms } = await timed(() =>
          run('curl', ['-sS', '-f', '-o', out, '-H', auth, `${base}/api/v1/contents/${content.id}`]),
        );
        samples.curlPull.push(mibs(ms));
        if ((await sha256File(out)) !== sourceSha) fail('curl download: SHA-256 differs');
        rmSync(out, { force: true });
      };
      for (const fn of clientFirst ? [pullOnce, curlOnce] : [curlOnce, pullOnce]) await fn();
      // free the disk for the next round
      const ids = contents.filter((c) => c.file_name.endsWith(name)).map((c) => c.id);
      await json(`${base}/api/v1/rooms/${room}/contents`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${token}` },
        body: { ids },
      });
      log(
        `  round ${round + 1} client: push ${samples.push.at(-1)?.toFixed(0)} MiB/s (curl ${samples.curlPush.at(-1)?.toFixed(0)}), ` +
          `pull ${samples.pull.at(-1)?.toFixed(0)} MiB/s (curl ${samples.curlPull.at(-1)?.toFixed(0)})`,
      );
    } catch (error) {
      fail(`client transfers: ${error instanceof Error ? error.message : error}`);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  const label = size >= 1024 * MiB ? `${size / (1024 * MiB)} GiB` : `${size / MiB} MiB`;
  const note = 'whole process runs (start-up included); curl: one tus PATCH of the whole file / one GET';
  row('client_push', `elizabeth push of ${label} (vs curl, same transfer)`, 'MiB/s', median(samples.push), {
    baseline: median(samples.curlPush),
    target: { ratioAtLeast: 0.8 },
    note,
  });
  row('client_pull', `elizabeth pull of ${label} (vs curl, same transfer)`, 'MiB/s', median(samples.pull), {
    baseline: median(samples.curlPull),
    target: { ratioAtLeast: 0.8 },
    note,
  });
}
