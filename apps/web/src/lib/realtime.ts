import type { WsServerFrame } from '@elizabeth/protocol';

/** A frame from the server (docs/WEBSOCKET.md): the protocol's type. */
export type ServerFrame = WsServerFrame;

/** Close reasons after which reconnecting is pointless: the UI must take over. */
export const FATAL_CODES = new Set([
  'session_revoked',
  'room_deleted',
  'room_expired',
  'password_changed',
  'address_changed',
]);

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface RealtimeHandlers {
  onFrame: (frame: ServerFrame) => void;
  onState: (state: ConnectionState) => void;
  /** A forced close (`session_revoked`, `room_deleted`, …) or an unrecoverable auth failure. */
  onFatal: (code: string, message?: string) => void;
  /** Called after a successful reconnect so the caller can re-sync what it may have missed. */
  onResync: () => void;
}

/** Exponential back-off with full jitter: ~0.5 s, 1 s, 2 s … capped at 30 s. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(30_000, 500 * 2 ** Math.min(attempt, 10));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export function parseFrame(data: unknown): ServerFrame | undefined {
  if (typeof data !== 'string') return undefined;
  try {
    const frame = JSON.parse(data) as { message_type?: unknown };
    return frame && typeof frame.message_type === 'string' ? (frame as ServerFrame) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One WebSocket per open room view. The first frame is `connect {token, room_name}`; the token
 * never goes into the URL. Reconnects with back-off, keeps an application-level ping, and stops
 * for good after a forced close.
 */
export class RoomSocket {
  private socket: WebSocket | undefined;
  private attempt = 0;
  private stopped = false;
  private everConnected = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private lastSeen = 0;
  private fatal = false;
  private authFailures = 0;

  constructor(
    private readonly url: string,
    private readonly room: string,
    private readonly getToken: (forceRenew: boolean) => Promise<string>,
    private readonly handlers: RealtimeHandlers,
  ) {}

  start(): void {
    this.stopped = false;
    window.addEventListener('online', this.onOnline);
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener('online', this.onOnline);
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    const socket = this.socket;
    this.socket = undefined;
    if (socket && socket.readyState <= WebSocket.OPEN) socket.close(1000, 'leaving');
    this.handlers.onState('closed');
  }

  private readonly onOnline = () => {
    if (this.stopped || this.fatal) return;
    if (!this.socket || this.socket.readyState > WebSocket.OPEN) {
      clearTimeout(this.retryTimer);
      this.attempt = 0;
      void this.connect();
    }
  };

  private async connect(): Promise<void> {
    if (this.stopped || this.fatal) return;
    this.handlers.onState(this.everConnected ? 'reconnecting' : 'connecting');
    let token: string;
    try {
      token = await this.getToken(this.authFailures > 0);
    } catch {
      this.fatal = true;
      this.handlers.onFatal('session_lost');
      return;
    }
    if (this.stopped) return;
    let socket: WebSocket;
    try {
      socket = new WebSocket(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    let acknowledged = false;
    socket.onopen = () => {
      socket.send(
        JSON.stringify({
          message_type: 'connect',
          payload: { token, room_name: this.room },
          timestamp: Date.now(),
        }),
      );
    };
    socket.onmessage = (event) => {
      this.lastSeen = Date.now();
      const frame = parseFrame(event.data);
      if (!frame) return;
      if (frame.message_type === 'connect_ack') {
        acknowledged = true;
        const reconnected = this.everConnected;
        this.everConnected = true;
        this.attempt = 0;
        this.authFailures = 0;
        this.handlers.onState('open');
        this.startPing(socket);
        if (reconnected) this.handlers.onResync();
      } else if (frame.message_type === 'error') {
        const code = frame.payload?.code ?? '';
        if (FATAL_CODES.has(code)) {
          this.fatal = true;
          this.handlers.onFatal(code, frame.payload?.message);
        } else if (!acknowledged && /AUTH|TOKEN|UNAUTHORIZED/i.test(code)) {
          this.authFailures += 1;
          if (this.authFailures > 2) {
            this.fatal = true;
            this.handlers.onFatal('session_lost', frame.payload?.message);
          }
        }
      }
      this.handlers.onFrame(frame);
    };
    socket.onclose = (event) => {
      clearInterval(this.pingTimer);
      if (this.socket === socket) this.socket = undefined;
      if (this.stopped || this.fatal) return;
      if (FATAL_CODES.has(event.reason)) {
        this.fatal = true;
        this.handlers.onFatal(event.reason);
        return;
      }
      if (event.code === 4401 && event.reason === 'token_expired') {
        // Closed at the token's expiry: renew the token and reconnect at once.
        this.authFailures = Math.max(this.authFailures, 1);
        this.attempt = 0;
        void this.connect();
        return;
      }
      this.scheduleReconnect();
    };
    socket.onerror = () => {
      // onclose follows and schedules the retry
    };
  }

  private startPing(socket: WebSocket): void {
    clearInterval(this.pingTimer);
    this.lastSeen = Date.now();
    this.pingTimer = setInterval(() => {
      if (socket.readyState !== WebSocket.OPEN) return;
      if (Date.now() - this.lastSeen > 65_000) {
        socket.close(4000, 'stale');
        return;
      }
      socket.send(JSON.stringify({ message_type: 'ping', timestamp: Date.now() }));
    }, 25_000);
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.fatal) return;
    this.handlers.onState('reconnecting');
    const wait = backoffDelay(this.attempt);
    this.attempt += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.connect(), wait);
  }
}
