import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

function sameSecret(given: string, expected: string): boolean {
  // Hashing first makes the comparison constant-time whatever the lengths.
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** The platform's own calls: a bearer token (INTERNAL_TOKEN) and a JSON body. */
export function internalCaller(internalToken: string | undefined) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!internalToken) {
      res.status(403).json({ error: 1, message: 'the internal endpoints are disabled: INTERNAL_TOKEN is not set' });
      return;
    }
    const header = req.get('authorization') ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!token || !sameSecret(token, internalToken)) {
      res.status(401).json({ error: 1, message: 'authentication failed' });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'DELETE' && !req.is('application/json')) {
      res.status(415).json({ error: 3, message: 'send the body as application/json' });
      return;
    }
    next();
  };
}
