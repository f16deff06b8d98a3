import { randomBytes } from 'node:crypto';

import type { ContentView } from '@elizabeth/protocol';
import { expect, it } from 'vitest';

import { describeEachDatabase } from '../support/db.js';
import { createRoom, enter } from '../support/rooms.js';
import { expectValidFrames, socketSuite } from '../support/sockets.js';
import type { Frame, WsClient } from './ws-client.js';

const KiB = 1024;
const CONTENT_EVENTS = ['content_created', 'content_updated', 'content_deleted'];

type Expected = { type: string; content: ContentView };

/**
 * API.md §4: every content change, from any route (messages, edits, deletes, two-step and
 * one-shot uploads, finished tus uploads), reaches every socket of the room as the right frame
 * with the ContentView the HTTP answer carried, in the order the changes happened.
 */
describeEachDatabase('content events on real sockets', (engine) => {
  const live = socketSuite(engine);

  async function twoMembers(room: string) {
    await createRoom(live.t.app, room, { max_size: 50 * 1024 * KiB });
    const alice = live.http((await enter(live.t.app, room)).token);
    const bob = live.http((await enter(live.t.app, room)).token);
    const onAlice = await live.connect(alice, room);
    const onBob = await live.connect(bob, room);
    // Both see that both are in before anything else happens.
    for (const socket of [onAlice, onBob]) {
      await expect
        .poll(() => socket.frames.some((f) => f.message_type === 'user_joined' && f.payload.online === 2))
        .toBe(true);
    }
    return { alice, bob, onAlice, onBob };
  }

  /** The next `count` content frames of a socket (presence frames in between are skipped). */
  async function contentFrames(socket: WsClient, count: number): Promise<Frame[]> {
    const frames: Frame[] = [];
    while (frames.length < count) {
      const frame = await socket.next();
      if (CONTENT_EVENTS.includes(frame.message_type)) frames.push(frame);
    }
    return frames;
  }

  it('messages, edits, deletes and every kind of upload reach both members, in order', async () => {
    const room = `live-${engine}`;
    const { alice, bob, onAlice, onBob } = await twoMembers(room);
    const expected: Expected[] = [];
    const path = `/api/v1/rooms/${room}`;

    // Alice says hello, Bob answers.
    const hello = (
      await alice.json<{ message: ContentView }>('POST', `${path}/messages`, { text: 'hello bob' }, 201)
    ).message;
    expected.push({ type: 'content_created', content: hello });
    const answer = (
      await bob.json<{ message: ContentView }>('POST', `${path}/messages`, { text: 'hi alice' }, 201)
    ).message;
    expected.push({ type: 'content_created', content: answer });

    // Alice edits her message.
    const edited = (
      await alice.json<{ updated: ContentView }>(
        'PUT',
        `${path}/contents/${hello.id}`,
        { text: 'hello, bob!' },
        200,
      )
    ).updated;
    expect(edited).toMatchObject({ id: hello.id, text: 'hello, bob!' });
    expected.push({ type: 'content_updated', content: edited });

    // Bob uploads two files in one one-shot request.
    const oneShot = await bob.upload<{ uploaded: ContentView[] }>(room, [
      { name: 'notes.txt', content: Buffer.from('some notes\n'), type: 'text/plain' },
      { name: 'pixel.png', content: randomBytes(300), type: 'image/png' },
    ]);
    expect(oneShot.uploaded.map((c) => c.content_type)).toEqual(['file', 'image']);
    for (const content of oneShot.uploaded) expected.push({ type: 'content_created', content });

    // Alice uses the two-step flow: reserve, then send.
    const report = randomBytes(5 * KiB);
    const prepared = await alice.json<{ reservation_id: number }>(
      'POST',
      `${path}/contents/prepare`,
      { files: [{ name: 'report.bin', size: report.length }] },
      200,
    );
    const twoStep = await alice.upload<{ uploaded: ContentView[] }>(
      room,
      [{ name: 'report.bin', content: report }],
      prepared.reservation_id,
    );
    expect(twoStep.uploaded).toHaveLength(1);
    expected.push({ type: 'content_created', content: twoStep.uploaded[0]! });

    // Bob sends a file with tus in three PATCHes; only the last one makes it a content.
    const big = randomBytes(96 * KiB);
    const upload = await bob.tusCreate(room, big.length, 'video.mp4', 'video/mp4');
    let offset = await bob.tusPatch(upload, 0, big.subarray(0, 32 * KiB));
    offset = await bob.tusPatch(upload, offset, big.subarray(offset, 64 * KiB));
    // An unfinished upload is nobody's business yet.
    const waiting = (
      await alice.json<{ message: ContentView }>(
        'POST',
        `${path}/messages`,
        { text: 'waiting for the video' },
        201,
      )
    ).message;
    expected.push({ type: 'content_created', content: waiting });
    expect(await bob.tusPatch(upload, offset, big.subarray(offset))).toBe(big.length);
    const listed = await alice.json<ContentView[]>('GET', `${path}/contents`, undefined, 200);
    const video = listed.find((c) => c.file_name === 'video.mp4');
    expect(video).toMatchObject({ content_type: 'file', size: big.length, mime_type: 'video/mp4' });
    expected.push({ type: 'content_created', content: video! });

    // Bob renames his notes; Alice deletes her edited message and the notes together.
    const renamed = (
      await bob.json<{ updated: ContentView }>(
        'PUT',
        `${path}/contents/${oneShot.uploaded[0]!.id}`,
        { file_name: 'meeting-notes.txt' },
        200,
      )
    ).updated;
    expected.push({ type: 'content_updated', content: renamed });
    const deleted = await alice.json<{ deleted: number[] }>(
      'DELETE',
      `${path}/contents`,
      { ids: [hello.id, renamed.id] },
      200,
    );
    expect([...deleted.deleted].sort((a, b) => a - b)).toEqual([hello.id, renamed.id].sort((a, b) => a - b));
    // Deletions are announced with the content as it was last seen, in the order of `deleted`.
    const lastSeen = new Map([
      [hello.id, edited],
      [renamed.id, renamed],
    ]);
    for (const id of deleted.deleted) expected.push({ type: 'content_deleted', content: lastSeen.get(id)! });

    for (const socket of [onAlice, onBob]) {
      const frames = await contentFrames(socket, expected.length);
      expect(frames.map((f) => ({ type: f.message_type, content: f.payload.content }))).toEqual(expected);
      for (const frame of frames) expect(frame.payload.room_name).toBe(room);
      expectValidFrames(socket);
    }
    // Nothing more: no event for the unfinished PATCHes, no duplicate for the finished upload.
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const socket of [onAlice, onBob]) {
      expect(socket.unread().filter((f) => CONTENT_EVENTS.includes(f.message_type))).toEqual([]);
    }
  });

  it('keeps rooms apart: a member of another room hears nothing of these changes', async () => {
    const { alice, onBob } = await twoMembers(`apart-a-${engine}`);
    await createRoom(live.t.app, `apart-b-${engine}`);
    const stranger = live.http((await enter(live.t.app, `apart-b-${engine}`)).token);
    const onStranger = await live.connect(stranger, `apart-b-${engine}`);
    await alice.json('POST', `/api/v1/rooms/apart-a-${engine}/messages`, { text: 'private' }, 201);
    await alice.upload(`apart-a-${engine}`, [{ name: 'a.txt', content: Buffer.from('a') }]);
    expect((await contentFrames(onBob, 2)).map((f) => f.message_type)).toEqual([
      'content_created',
      'content_created',
    ]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(onStranger.frames.filter((f) => CONTENT_EVENTS.includes(f.message_type))).toEqual([]);
  });
});
