import { multipart, type FilePart } from '../support/contents.js';

/**
 * Real HTTP calls against a listening app (fetch over TCP, not `app.inject`), for the tests
 * that watch the same actions arrive on real sockets: JSON routes, multipart uploads and tus.
 */
export class HttpClient {
  constructor(
    readonly base: string,
    readonly token: string,
  ) {}

  /** The WebSocket URL of the same server. */
  get wsUrl(): string {
    return `${this.base.replace(/^http/, 'ws')}/api/v1/ws`;
  }

  private get auth() {
    return { authorization: `Bearer ${this.token}` };
  }

  /** A JSON request; fails the test with the body if the status is not `expected`. */
  async json<T>(method: string, path: string, body: unknown, expected: number): Promise<T> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: { ...this.auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (res.status !== expected) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  }

  /** A multipart upload to `/rooms/{room}/contents` (one-shot, or two-step with a reservation). */
  async upload<T>(room: string, files: FilePart[], reservationId?: number): Promise<T> {
    const body = multipart(files);
    const query = reservationId === undefined ? '' : `?reservation_id=${reservationId}`;
    const res = await fetch(`${this.base}/api/v1/rooms/${encodeURIComponent(room)}/contents${query}`, {
      method: 'POST',
      headers: { ...this.auth, ...body.headers },
      body: body.payload,
    });
    const text = await res.text();
    if (res.status !== 201) throw new Error(`upload: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  }

  /** tus creation; resolves with the upload's path (the `Location` header). */
  async tusCreate(room: string, size: number, name: string, type = 'application/octet-stream') {
    const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
    const res = await fetch(`${this.base}/api/v1/rooms/${encodeURIComponent(room)}/uploads`, {
      method: 'POST',
      headers: {
        ...this.auth,
        'tus-resumable': '1.0.0',
        'upload-length': String(size),
        'upload-metadata': `filename ${b64(name)},filetype ${b64(type)}`,
      },
    });
    const text = await res.text();
    if (res.status !== 201) throw new Error(`tus create: ${res.status} ${text}`);
    const location = res.headers.get('location');
    if (!location) throw new Error('tus create: no Location');
    return new URL(location, this.base).pathname;
  }

  /** One tus PATCH; resolves with the new offset. */
  async tusPatch(path: string, offset: number, bytes: Buffer): Promise<number> {
    const res = await fetch(`${this.base}${path}`, {
      method: 'PATCH',
      headers: {
        ...this.auth,
        'tus-resumable': '1.0.0',
        'upload-offset': String(offset),
        'content-type': 'application/offset+octet-stream',
      },
      body: bytes,
    });
    const text = await res.text();
    if (res.status !== 204) throw new Error(`tus PATCH: ${res.status} ${text}`);
    return Number(res.headers.get('upload-offset'));
  }

  /** tus HEAD: the status and, when there is one, the offset. */
  async tusHead(path: string): Promise<{ status: number; offset: number | undefined }> {
    const res = await fetch(`${this.base}${path}`, {
      method: 'HEAD',
      headers: { ...this.auth, 'tus-resumable': '1.0.0' },
    });
    const offset = res.headers.get('upload-offset');
    return { status: res.status, offset: offset === null ? undefined : Number(offset) };
  }
}
