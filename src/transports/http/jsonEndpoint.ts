import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from '../../logger.js';
import { functionNames, type Webservice } from '../../services/webservice.js';
import { errorAnswer, wireResult, type Answer } from '../answer.js';
import type { Observer } from '../../services/observer.js';
import { requestLog } from './requestLog.js';

/** POST /json/<function>: the same four functions, form-encoded or JSON in, JSON out. */
export function jsonEndpoint(webservice: Webservice, log: Logger, observer: Observer, maxRequestBytes: number): Router {
  const router = express.Router();
  const byLowerName = new Map(functionNames.map((name) => [name.toLowerCase(), name]));
  const parsers = [
    express.json({ limit: maxRequestBytes, strict: true }),
    express.urlencoded({ extended: false, limit: maxRequestBytes, parameterLimit: 50 }),
  ];

  router.post('/json/:function', ...parsers, async (req: Request, res: Response) => {
    const name = byLowerName.get(String(req.params.function).toLowerCase());
    if (!name) {
      res.status(404).json({ error: 3, message: `unknown function; the functions are ${functionNames.join(', ')}` });
      return;
    }
    const params = req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? req.body : {};
    let answer: Answer;
    try {
      const outcome = await webservice.call(name, params, { address: req.ip });
      answer = { error: 0, message: outcome.message, result: wireResult(outcome) };
    } catch (error) {
      answer = errorAnswer(error, requestLog(res, log), { transport: 'json', function: name });
    }
    res.json(answer);
    observer.webserviceCall('json', name, answer.error);
    requestLog(res, log).info({ transport: 'json', function: name, error: answer.error }, 'webservice call');
  });
  return router;
}
