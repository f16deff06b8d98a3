import { ErrorEnvelope, type ErrorCode } from '@elizabeth/protocol';

/** Exit codes of the client commands (docs/CLI.md). */
export const EXIT = { OK: 0, OTHER: 1, USAGE: 2, AUTH: 3, NOT_FOUND: 4, QUOTA: 5 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

const EXIT_BY_CODE: Partial<Record<ErrorCode, ExitCode>> = {
  AUTHENTICATION_FAILED: EXIT.AUTH,
  ROOM_NOT_ENTERABLE: EXIT.AUTH,
  PERMISSION_DENIED: EXIT.AUTH,
  ROOM_NOT_FOUND: EXIT.NOT_FOUND,
  NOT_FOUND: EXIT.NOT_FOUND,
  ROOM_EXPIRED: EXIT.NOT_FOUND,
  QUOTA_EXCEEDED: EXIT.QUOTA,
  PAYLOAD_TOO_LARGE: EXIT.QUOTA,
  INSUFFICIENT_STORAGE: EXIT.QUOTA,
};

/** A failure the client reports as one line and an exit code, without a stack trace. */
export class ClientError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.OTHER,
    /** The server's error code, when the server answered with its envelope. */
    readonly code?: ErrorCode,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ClientError';
  }
}

/** The server's error envelope as a ClientError, or undefined when the body is not one. */
export function fromEnvelope(status: number, body: string): ClientError | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const parsed = ErrorEnvelope.safeParse(json);
  if (!parsed.success) return undefined;
  const { code, message } = parsed.data.error;
  return new ClientError(message, EXIT_BY_CODE[code] ?? EXIT.OTHER, code, status);
}

/** Any non-2xx answer as a ClientError: the envelope's message, else the status line. */
export function fromResponse(status: number, body: string): ClientError {
  return (
    fromEnvelope(status, body) ??
    new ClientError(
      `HTTP ${status}${body ? `: ${body.slice(0, 200)}` : ''}`,
      status === 404 ? EXIT.NOT_FOUND : EXIT.OTHER,
    )
  );
}
