import { pino, type Logger } from 'pino';

export type { Logger };

// Secrets never reach a log line, even when a caller logs a whole object by mistake.
// A database error carries its statement, values included: payloads are personal data.
const redactedPaths = [
  'password', '*.password', 'secret', '*.secret', 'token', '*.token',
  'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization',
  'sql', '*.sql',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: undefined, redact: { paths: redactedPaths, censor: '[redacted]' } }, destination);
}

export const silentLogger: Logger = pino({ level: 'silent' });
