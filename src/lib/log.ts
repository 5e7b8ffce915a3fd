import { pino, type Logger } from 'pino';

export type { Logger };

/** The process logger. Secrets never reach it: request bodies are not logged, and the auth
 * headers are redacted. */
export function createLogger(level = process.env.NUBO_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    redact: {
      paths: ['req.headers["x-auth-token"]', 'req.headers["x-subject-token"]', 'req.headers.authorization'],
      censor: '***',
    },
  });
}
