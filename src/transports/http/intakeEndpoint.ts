import { timingSafeEqual, createHash } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from '../../logger.js';
import type { EventIntake } from '../../services/eventIntake.js';
import { errorAnswer } from '../answer.js';

function sameSecret(given: string, expected: string): boolean {
  // Hashing first makes the comparison constant-time whatever the lengths.
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * POST /internal/events: the platform reports events, one object or an array.
 * Answers in the webservice's shape once the events are stored.
 */
export function intakeEndpoint(intake: EventIntake, log: Logger, options: { internalToken: string | undefined; maxRequestBytes: number }): Router {
  const router = express.Router();
  router.post('/internal/events', express.json({ limit: options.maxRequestBytes, strict: false }), async (req: Request, res: Response) => {
    if (!options.internalToken) {
      res.status(403).json({ error: 1, message: 'event intake is disabled: INTERNAL_TOKEN is not set' });
      return;
    }
    const header = req.get('authorization') ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!token || !sameSecret(token, options.internalToken)) {
      res.status(401).json({ error: 1, message: 'authentication failed' });
      return;
    }
    if (!req.is('application/json')) {
      res.status(415).json({ error: 3, message: 'send the events as application/json' });
      return;
    }
    const batch = Array.isArray(req.body);
    const inputs: unknown[] = batch ? req.body : [req.body];
    if (inputs.length === 0) {
      res.status(400).json({ error: 2, message: 'the batch holds no event' });
      return;
    }
    try {
      const accepted = await intake.accept(inputs);
      res.status(202).json({ error: 0, message: '', result: batch ? accepted : accepted[0] });
    } catch (error) {
      const answer = errorAnswer(error, log, { transport: 'intake' });
      res.status(answer.error === 99 ? 500 : 422).json(answer);
    }
  });
  return router;
}
