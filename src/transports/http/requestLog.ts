import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../../logger.js';

/**
 * Gives every request an id (the proxy's X-Request-Id when it sends a sane one)
 * and a child logger carrying it; the id goes back in the answer's header.
 */
export function assignRequestId(log: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const given = req.get('x-request-id');
    const id = given && /^[\w.:-]{1,100}$/.test(given) ? given : randomUUID();
    res.set('x-request-id', id);
    res.locals.log = log.child({ requestId: id });
    next();
  };
}

export function requestLog(res: Response, fallback: Logger): Logger {
  return (res.locals.log as Logger | undefined) ?? fallback;
}
