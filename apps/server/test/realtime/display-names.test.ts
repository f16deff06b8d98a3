import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  type ContentView,
  DISPLAY_NAME_MAX_LENGTH,
  IssueTokenResponse,
  SessionIdentity,
} from '@elizabeth/protocol';
import { describe, expect, it } from 'vitest';

import { UPLOAD_PROGRESS_INTERVAL_MS } from '../../src/modules/uploads/uploads.service.js';
import { describeEachDatabase } from '../support/db.js';
import { bearer, createRoom, enter, expectError } from '../support/rooms.js';
import { expectValidFrames, socketSuite } from '../support/sockets.js';
import type { Frame, WsClient } from './ws-client.js';

const KiB = 1024;

/**
 * Who said what (API.md §2 display names, docs/WEBSOCKET.md): names on entry and by PATCH,
 * validated; carried by content events, presence and the archive; a rename reaches everyone
 * live and rewrites earlier contents; tus uploads in progress are shown to the room.
 */
describeEachDatabase('display names and uploads in progress', (engine) => {
  const live = socketSuite(engine);
  const connect = live.connect;

  const path = (room: string, rest = '') => `/api/v1/rooms/${encodeURIComponent(room)}${rest}`;

  /** The next frame of this type that matches (earlier ones of the type are skipped). */
  async function until(socket: WsClient, type: string, match: (frame: Frame) => boolean): Promise<Frame> {
    for (;;) {
      const frame = await socket.next(type);
      if (match(frame)) return frame;
    }
  }

  describe('validation', () => {
    it('normalises a name on entry and refuses long, control and bidi-override names with the envelope', async () => {
      const room = 'names-valid';
      await createRoom(live.t.app, room);
      const entered = IssueTokenResponse.parse(
        await enter(live.t.app, room, { display_name: '  Ada \t  Lovelace ' }),
      );
      expect(entered.display_name).toBe('Ada Lovelace');
      expect(entered.author_id).toMatch(/^[0-9a-f]{16}$/);
      expect(entered.author_id).not.toContain(entered.claims.jti);
      const unnamed = IssueTokenResponse.parse(await enter(live.t.app, room, { display_name: '   ' }));
      expect(unnamed.display_name).toBeNull();

      const bad = [
        'x'.repeat(DISPLAY_NAME_MAX_LENGTH + 1),
        'evil\u202Egnp.exe',
        'isolate\u2066x',
        'bell\u0007',
        'line\u2028break',
      ];
      for (const display_name of bad) {
        const res = await live.t.app.inject({
          method: 'POST',
          url: path(room, '/tokens'),
          payload: { display_name },
        });
        expectError(res, 400, 'VALIDATION_ERROR');
        expect(res.json().error.details).toEqual([{ path: 'display_name', message: expect.any(String) }]);
        const patch = await live.t.app.inject({
          method: 'PATCH',
          url: path(room, '/session'),
          headers: bearer(entered.token),
          payload: { display_name },
        });
        expectError(patch, 400, 'VALIDATION_ERROR');
      }
      // 40 characters counted as code points: CJK and emoji are one each.
      const cjk = '名'.repeat(DISPLAY_NAME_MAX_LENGTH - 1) + '😀';
      const ok = await live.t.app.inject({
        method: 'PATCH',
        url: path(room, '/session'),
        headers: bearer(entered.token),
        payload: { display_name: cjk },
      });
      expect(ok.statusCode, ok.body).toBe(200);
      expect(SessionIdentity.parse(ok.json())).toEqual({
        jti: entered.claims.jti,
        permission: entered.claims.permission,
        author_id: entered.author_id,
        display_name: cjk,
      });
      const mine = await live.t.app.inject({
        method: 'GET',
        url: path(room, '/session'),
        headers: bearer(entered.token),
      });
      expect(mine.json().display_name).toBe(cjk);
      // Null clears it; a missing token is 401 as everywhere.
      const cleared = await live.t.app.inject({
        method: 'PATCH',
        url: path(room, '/session'),
        headers: bearer(entered.token),
        payload: { display_name: null },
      });
      expect(cleared.json().display_name).toBeNull();
      expectError(
        await live.t.app.inject({
          method: 'PATCH',
          url: path(room, '/session'),
          payload: { display_name: 'x' },
        }),
        401,
        'AUTHENTICATION_FAILED',
      );
    });

    it('keeps the author and name through rotation and refresh; managers see names in the session list', async () => {
      const room = 'names-carry';
      await createRoom(live.t.app, room);
      const first = IssueTokenResponse.parse(
        await enter(live.t.app, room, { display_name: 'Grace', with_refresh_token: true }),
      );
      const rotated = IssueTokenResponse.parse(await enter(live.t.app, room, { token: first.token }));
      expect(rotated.claims.jti).not.toBe(first.claims.jti);
      expect([rotated.author_id, rotated.display_name]).toEqual([first.author_id, 'Grace']);
      const refreshed = await live.t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refresh_token: first.refresh_token },
      });
      expect(refreshed.statusCode, refreshed.body).toBe(200);
      const identity = await live.t.app.inject({
        method: 'GET',
        url: path(room, '/session'),
        headers: bearer(refreshed.json().access_token),
      });
      expect(identity.json()).toMatchObject({ author_id: first.author_id, display_name: 'Grace' });
      // The refresh token followed the rotation, so the refreshed session replaced the rotated one.
      const list = await live.t.app.inject({
        method: 'GET',
        url: path(room, '/tokens'),
        headers: bearer(refreshed.json().access_token),
      });
      expect(list.json()).toContainEqual(
        expect.objectContaining({ author_id: first.author_id, display_name: 'Grace' }),
      );
    });
  });

  it('content events, presence and the archive carry names; a rename reaches everyone live', async () => {
    const room = 'names-live';
    await createRoom(live.t.app, room, { max_size: 10 * 1024 * KiB });
    const aliceEntry = IssueTokenResponse.parse(await enter(live.t.app, room, { display_name: 'Alice' }));
    const bobEntry = IssueTokenResponse.parse(await enter(live.t.app, room));
    const alice = live.http(aliceEntry.token);
    const bob = live.http(bobEntry.token);
    const onAlice = await connect(alice, room);
    expect(onAlice.ack.payload.session).toEqual({
      jti: aliceEntry.claims.jti,
      permission: aliceEntry.claims.permission,
      author_id: aliceEntry.author_id,
      display_name: 'Alice',
    });
    const onBob = await connect(bob, room);
    expect(onBob.ack.payload.members).toEqual(
      expect.arrayContaining([{ author_id: aliceEntry.author_id, display_name: 'Alice' }]),
    );
    // Both see both, with names, in the presence frames.
    const bothIn = [
      { author_id: aliceEntry.author_id, display_name: 'Alice' },
      { author_id: bobEntry.author_id, display_name: null },
    ];
    for (const socket of [onAlice, onBob]) {
      await expect
        .poll(() => socket.frames.findLast((f) => f.message_type === 'user_joined')?.payload.members)
        .toEqual(bothIn);
    }

    // Alice posts: Bob's event names her; Bob (no name yet) posts: null name, his author id.
    const posted = await alice.json<{ message: ContentView }>(
      'POST',
      path(room, '/messages'),
      { text: 'hi' },
      201,
    );
    expect(posted.message).toMatchObject({ author_id: aliceEntry.author_id, author_name: 'Alice' });
    const seen = await onBob.next('content_created');
    expect(seen.payload.content).toEqual(posted.message);
    const link = await bob.json<{ created: ContentView }>(
      'POST',
      path(room, '/contents/url'),
      { url: 'https://example.com', name: 'Example' },
      201,
    );
    expect(link.created).toMatchObject({ author_id: bobEntry.author_id, author_name: null });
    const file = await bob.upload<{ uploaded: ContentView[] }>(room, [
      { name: 'a.txt', content: Buffer.from('x') },
    ]);
    expect(file.uploaded[0]).toMatchObject({ author_id: bobEntry.author_id });

    // Bob names himself: Alice hears it at once, and his earlier contents carry the name.
    const renamed = await bob.json<SessionIdentity>(
      'PATCH',
      path(room, '/session'),
      { display_name: 'Bob' },
      200,
    );
    expect(renamed).toMatchObject({ author_id: bobEntry.author_id, display_name: 'Bob' });
    const frame = await onAlice.next('member_renamed');
    expect(frame.payload).toEqual({ author_id: bobEntry.author_id, display_name: 'Bob' });
    const contents = await alice.json<ContentView[]>('GET', path(room, '/contents'), undefined, 200);
    const byId = new Map(contents.map((c) => [c.id, c]));
    expect(byId.get(link.created.id)?.author_name).toBe('Bob');
    expect(byId.get(file.uploaded[0]!.id)?.author_name).toBe('Bob');
    expect(byId.get(posted.message.id)?.author_name).toBe('Alice');
    // A socket that connects after the rename lists the new name.
    const again = await connect(alice, room);
    expect(again.ack.payload.members).toContainEqual({ author_id: bobEntry.author_id, display_name: 'Bob' });

    // messages.md names the authors (the current names).
    await bob.json('POST', path(room, '/messages'), { text: 'from bob' }, 201);
    const zip = await live.t.app.inject({
      method: 'GET',
      url: path(room, '/archive'),
      headers: bearer(bob.token),
    });
    expect(zip.statusCode).toBe(200);
    const file_ = join(live.t.dir, 'names.zip');
    writeFileSync(file_, zip.rawPayload);
    const md = execFileSync('unzip', ['-p', file_, 'messages.md'], { encoding: 'utf8' });
    expect(md).toMatch(/^## \S+ · Alice\n\nhi$/m);
    expect(md).toMatch(/^## \S+ · Bob · link\n\n\[Example\]\(https:\/\/example\.com\)$/m);
    expect(md).toMatch(/^## \S+ · Bob\n\nfrom bob$/m);
    expectValidFrames(onAlice);
    expectValidFrames(onBob);
  });

  it('tus uploads in progress reach the room (throttled), late joiners, and end when finished or aborted', async () => {
    const room = 'names-uploads';
    await createRoom(live.t.app, room, { max_size: 10 * 1024 * KiB });
    const bobEntry = IssueTokenResponse.parse(await enter(live.t.app, room, { display_name: 'Bob' }));
    const alice = live.http((await enter(live.t.app, room, { display_name: 'Alice' })).token);
    const bob = live.http(bobEntry.token);
    const onAlice = await connect(alice, room);

    const data = randomBytes(64 * KiB);
    const upload = await bob.tusCreate(room, data.length, 'movie.mp4', 'video/mp4');
    const created = await onAlice.next('upload_progress');
    expect(created.payload.upload).toMatchObject({
      file_name: 'movie.mp4',
      size: data.length,
      offset: 0,
      author_id: bobEntry.author_id,
      author_name: 'Bob',
    });
    const id = created.payload.upload.id as number;
    expect(typeof id).toBe('number');
    // The tus URL (only the uploader may use it) never appears in a frame.
    expect(JSON.stringify(onAlice.frames)).not.toContain(upload.split('/').pop()!);

    // 16 small PATCHes in a row: the room hears far fewer reports, the latest offset last.
    const started = performance.now();
    let offset = 0;
    for (let i = 0; i < 16; i += 1)
      offset = await bob.tusPatch(upload, offset, data.subarray(offset, offset + KiB));
    const elapsed = performance.now() - started;
    await expect
      .poll(
        () => onAlice.frames.findLast((f) => f.message_type === 'upload_progress')?.payload.upload.offset,
        {
          timeout: 5_000,
        },
      )
      .toBe(16 * KiB);
    const reports = onAlice.frames.filter((f) => f.message_type === 'upload_progress').length - 1;
    expect(reports).toBeGreaterThanOrEqual(1);
    expect(reports).toBeLessThanOrEqual(Math.ceil(elapsed / UPLOAD_PROGRESS_INTERVAL_MS) + 2);

    // Someone who connects now sees it in progress.
    const carol = live.http((await enter(live.t.app, room)).token);
    const onCarol = await connect(carol, room);
    const told = await onCarol.next('upload_progress');
    expect(told.payload.upload).toMatchObject({ id, offset: 16 * KiB, author_name: 'Bob' });

    // Renaming while uploading renames the upload too (for those who connect later).
    await bob.json('PATCH', path(room, '/session'), { display_name: 'Robert' }, 200);
    await onAlice.next('member_renamed');

    // The last byte: ended as finished, and the file is a content by Robert.
    expect(await bob.tusPatch(upload, offset, data.subarray(offset))).toBe(data.length);
    const ended = await onAlice.next('upload_ended');
    expect(ended.payload).toEqual({ id, reason: 'finished' });
    const content = await onAlice.next('content_created');
    expect(content.payload.content).toMatchObject({ file_name: 'movie.mp4', author_name: 'Robert' });
    const late = await connect(carol, room);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(late.unread('upload_progress')).toEqual([]);

    // Terminated (DELETE): ended as aborted.
    const other = await bob.tusCreate(room, 10 * KiB, 'gone.bin');
    const started2 = await until(
      onAlice,
      'upload_progress',
      (f) => f.payload.upload.file_name === 'gone.bin',
    );
    expect(started2.payload.upload).toMatchObject({
      file_name: 'gone.bin',
      offset: 0,
      author_name: 'Robert',
    });
    const res = await fetch(`${live.base}${other}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${bob.token}`, 'tus-resumable': '1.0.0' },
    });
    expect(res.status).toBe(204);
    const aborted = await onAlice.next('upload_ended');
    expect(aborted.payload).toEqual({ id: started2.payload.upload.id, reason: 'aborted' });
    expectValidFrames(onAlice);
    expectValidFrames(onCarol);
  });
});

describeEachDatabase('uploads in progress expire', (engine) => {
  const live = socketSuite(engine, {
    UPLOAD_RESERVATION_TTL_SECONDS: '2',
    REALTIME_PING_INTERVAL_SECONDS: '1',
  });

  it('an upload nobody finishes is told as expired after its reservation runs out', async () => {
    const room = 'names-expire';
    await createRoom(live.t.app, room);
    const bob = live.http((await enter(live.t.app, room, { display_name: 'Bob' })).token);
    const alice = live.http((await enter(live.t.app, room)).token);
    const socket = await live.connect(alice, room);
    const path = await bob.tusCreate(room, 4 * KiB, 'stalled.bin');
    await bob.tusPatch(path, 0, randomBytes(KiB));
    const progress: Frame = await socket.next('upload_progress');
    const ended = await socket.next('upload_ended', 6_000);
    expect(ended.payload).toEqual({ id: progress.payload.upload.id, reason: 'expired' });
  });
});
