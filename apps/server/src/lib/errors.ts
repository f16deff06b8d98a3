import {
  ERROR_STATUS,
  type ErrorCode,
  type ErrorDetail,
  type ErrorEnvelope,
  type RoomReason,
} from '@elizabeth/protocol';

/**
 * The one error type of the server. Services throw it; the error handler turns it (and every
 * framework error) into the envelope of API.md §0.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details?: ErrorDetail[];
  /** Extra response headers, e.g. `Retry-After` for 429. */
  readonly headers?: Record<string, string>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: ErrorDetail[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    if (options.details) this.details = options.details;
    if (options.headers) this.headers = options.headers;
  }

  toEnvelope(): ErrorEnvelope {
    return {
      error: {
        code: this.code,
        message: this.message,
        status: this.status,
        ...(this.details ? { details: this.details } : {}),
      },
    };
  }
}

export const validationError = (message: string, details?: ErrorDetail[]) =>
  new AppError('VALIDATION_ERROR', message, details ? { details } : {});
export const notFound = (message = 'Not found') => new AppError('NOT_FOUND', message);
export const conflict = (message: string) => new AppError('CONFLICT', message);
/** The room was deleted after the request was authenticated, before it wrote anything. */
export const roomDeletedMeanwhile = () => conflict('The room was deleted while this request ran');
export const permissionDenied = (message: string) => new AppError('PERMISSION_DENIED', message);
export const authenticationFailed = (message: string) => new AppError('AUTHENTICATION_FAILED', message);

/** A room error that names its exact reason in `details` (`{path: "reason", message: reason}`). */
export const roomReasonError = (code: ErrorCode, message: string, reason: RoomReason) =>
  new AppError(code, message, { details: [{ path: 'reason', message: reason }] });
