import pino, { type Logger, type LoggerOptions } from 'pino';

import type { AppConfig } from '../config/types.js';

/** Query parameters whose value is a secret, by their decoded, lower-cased name. */
const SECRET_PARAMS = new Set(['token', 'access_token', 'refresh_token', 'password', 'secret']);
/** A JWT (header `{"…` in base64url), wherever it appears in a query. */
const JWT_LIKE = /eyJ[\w-]*\.[\w-]*\.?/;

function decodeQueryPart(part: string): string {
  try {
    return decodeURIComponent(part.replaceAll('+', ' '));
  } catch {
    return part;
  }
}

/**
 * The URL with the value of every secret query parameter replaced, so it can be logged. Names
 * are compared decoded (the server decodes them too: `?%74oken=` is `token`), and any value
 * (or name) that decodes to something JWT-shaped is replaced whatever its name.
 */
export function redactUrl(url: string): string {
  const start = url.indexOf('?');
  if (start < 0) return url;
  const query = url
    .slice(start + 1)
    .split('&')
    .map((part) => {
      const eq = part.indexOf('=');
      const rawName = eq < 0 ? part : part.slice(0, eq);
      const name = decodeQueryPart(rawName);
      if (JWT_LIKE.test(name)) return '[REDACTED]';
      if (eq < 0) return part;
      const secret = SECRET_PARAMS.has(name.trim().toLowerCase());
      return secret || JWT_LIKE.test(decodeQueryPart(part.slice(eq + 1))) ? `${rawName}=[REDACTED]` : part;
    });
  return `${url.slice(0, start)}?${query.join('&')}`;
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
