import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { LocalStorage } from '../../src/storage/local-storage.js';

/** Local storage leaves nothing behind: a room's directory goes with its last file. */
describe('local storage directories', () => {
  let root: string;
  let storage: LocalStorage;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'elz-local-'));
    storage = new LocalStorage(join(root, 'storage'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const put = (key: string, bytes: Buffer) => storage.put(key, Readable.from([bytes]));
  /** Resolves after `turns` turns of the event loop. */
  const later = async (turns: number) => {
    for (let i = 0; i < turns; i += 1) await new Promise((r) => setImmediate(r));
  };

  it("removes a room's directory with its last file, and only then", async () => {
    const [a, b] = [`rooms/7/${randomUUID()}`, `rooms/7/${randomUUID()}`];
    const other = `rooms/8/${randomUUID()}`;
    for (const key of [a, b, other]) await put(key, randomBytes(64));
    await storage.delete(a);
    expect(readdirSync(join(storage.root, 'rooms', '7'))).toEqual([b.split('/')[2]]);
    await storage.delete(b);
    expect(existsSync(join(storage.root, 'rooms', '7'))).toBe(false);
    expect(readdirSync(join(storage.root, 'rooms'))).toEqual(['8']);
    // Deleting again, or a key that never was, is not an error.
    await storage.delete(b);
    await storage.delete(`rooms/9/${randomUUID()}`);
  });

  it('keeps a write that starts while the directory is being removed', async () => {
    // In each round a room's only file is deleted while a new one is written into the room:
    // every write lands, whole, whichever step of the delete it meets.
    const written = new Map<string, Buffer>();
    for (let round = 0; round < 300; round += 1) {
      const doomed = `rooms/${round}/${randomUUID()}`;
      await put(doomed, randomBytes(16));
      const key = `rooms/${round}/${randomUUID()}`;
      const bytes = randomBytes(256);
      // The write starts a few event-loop turns after the delete, so that over the rounds it
      // falls between every step of the delete (its directory removal included).
      await Promise.all([storage.delete(doomed), later(round % 10).then(() => put(key, bytes))]);
      written.set(key, bytes);
    }
    for (const [key, bytes] of written) {
      expect(readFileSync(join(storage.root, key))).toEqual(bytes);
      expect(readdirSync(join(storage.root, key, '..'))).toEqual([key.split('/')[2]]);
    }
  });
});
