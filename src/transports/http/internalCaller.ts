import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

function sameSecret(given: string, expected: string): boolean {
  // Hashing first makes the comparison constant-time whatever the lengths.
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * The platform's own calls: a bearer token (INTERNAL_TOKEN) and a JSON body.
 * It runs before the body is read: a refused request's body is never parsed,
 * and its connection ends with the answer rather than after reading the rest.
 */
export function internalCaller(internalToken: string | undefined) {
  return (req: Request, res: Response, next: NextFunction) => {
    const refuse = (status: number, error: number, message: string) => void res.status(status).set('connection', 'close').json({ error, message });
    if (!internalToken) return refuse(403, 1, 'the internal endpoints are disabled: INTERNAL_TOKEN is not set');
    const header = req.get('authorization') ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!token || !sameSecret(token, internalToken)) return refuse(401, 1, 'authentication failed');
    if (req.method !== 'GET' && req.method !== 'DELETE' && !req.is('application/json')) return refuse(415, 3, 'send the body as application/json');
    next();
  };
}
