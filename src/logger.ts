import { pino, type Logger } from 'pino';

export type { Logger };

// Secrets never reach a log line, even when a caller logs a whole object by mistake.
const redactedPaths = [
  'password', '*.password', 'secret', '*.secret', 'token', '*.token',
  'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: undefined, redact: { paths: redactedPaths, censor: '[redacted]' } }, destination);
}

export const silentLogger: Logger = pino({ level: 'silent' });
