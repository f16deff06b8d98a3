import pino, { type Logger, type LoggerOptions } from 'pino';

import type { AppConfig } from '../config/types.js';

/** Replaces the value of every `token` query parameter, so URLs can be logged. */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:token|access_token|refresh_token)=)[^&#]*/gi, '$1[REDACTED]');
}

const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-elizabeth-admin-token"]',
  'res.headers["set-cookie"]',
  // Plugins log request headers under their own keys (@fastify/multipart at trace level:
  // `busboyOptions.headers`), so any `headers` object one or two levels down is covered.
  'headers.authorization',
  'headers.cookie',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["x-elizabeth-admin-token"]',
  '*.password',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.secret',
  '*.jwt_secret',
];

export function loggerOptions(logging: AppConfig['logging'], isTTY: boolean): LoggerOptions {
  const pretty = logging.format === 'pretty' || (logging.format === 'auto' && isTTY);
  return {
    level: logging.level,
    redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
    serializers: {
      req(req: { method?: string; url?: string; ip?: string; id?: string }) {
        return { id: req.id, method: req.method, url: redactUrl(req.url ?? ''), ip: req.ip };
      },
    },
    ...(pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
          },
        }
      : {}),
  };
}

/** The process logger: pretty on a TTY, JSON lines otherwise (or as configured). */
export function createLogger(logging: AppConfig['logging'], isTTY = Boolean(process.stdout.isTTY)): Logger {
  return pino(loggerOptions(logging, isTTY));
}
