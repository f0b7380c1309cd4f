import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Observer } from '../../services/observer.js';
import type { Logger } from '../../logger.js';
import type { EventIntake } from '../../services/eventIntake.js';
import type { SubscriberErasure } from '../../services/subscriberErasure.js';
import { brieflyUnavailable, errorAnswer } from '../answer.js';
import { payloadTooDeep } from '../../domain/event.js';
import { internalCaller } from './internalCaller.js';
import { boundedJson } from './jsonBody.js';

/**
 * POST /internal/events: the platform reports events, one object or an array.
 * POST /internal/erasure: the platform erases one subscriber's data.
 * Both answer in the webservice's shape once the change is durable.
 */
export function intakeEndpoint(
  intake: EventIntake,
  erasure: SubscriberErasure,
  log: Logger,
  observer: Pick<Observer, 'intakeAnswered'>,
  options: { internalToken: string | undefined; maxRequestBytes: number; maxPayloadDepth: number },
): Router {
  const router = express.Router();
  // The token before the body: an unauthenticated request never costs a parse.
  const guarded = [
    internalCaller(options.internalToken),
    boundedJson({
      limit: options.maxRequestBytes,
      strict: false,
      // The payload sits inside the event's object, and a batch's array around that.
      depthOf: (body) => options.maxPayloadDepth + (/^\s*\[/.test(body) ? 2 : 1),
      refusal: `the payload ${payloadTooDeep(options.maxPayloadDepth)}`,
    }),
  ];
  const refused = (res: Response, error: unknown, transport: string) => {
    const answer = errorAnswer(error, log, { transport });
    // No database right now: the platform retries after a few seconds, and nothing was stored.
    if (answer.message === brieflyUnavailable) return void res.status(503).set('retry-after', '5').json(answer);
    res.status(answer.error === 99 ? 500 : 422).json(answer);
  };

  const counted = (_req: Request, res: Response, next: NextFunction) => {
    res.once('finish', () => observer.intakeAnswered(res.statusCode));
    next();
  };

  router.post('/internal/events', counted, ...guarded, async (req: Request, res: Response) => {
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
      refused(res, error, 'intake');
    }
  });

  router.post('/internal/erasure', ...guarded, async (req: Request, res: Response) => {
    const body = req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? (req.body as Record<string, unknown>) : {};
    try {
      const erased = await erasure.erase({ account: body.account, subscriber: body.subscriber });
      // The counts only: never the subscriber key in a log line.
      log.info({ transport: 'erasure', erased }, 'subscriber erased');
      res.json({ error: 0, message: '', result: erased });
    } catch (error) {
      refused(res, error, 'erasure');
    }
  });
  return router;
}
