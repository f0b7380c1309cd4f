import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from '../../logger.js';
import { functionNames, type Webservice } from '../../services/webservice.js';
import { answerCall } from '../answer.js';
import type { Observer } from '../../services/observer.js';
import { requestLog } from './requestLog.js';
import { boundedCallJson } from './jsonBody.js';

/** POST /json/<function>: the same four functions, form-encoded or JSON in, JSON out. */
export function jsonEndpoint(webservice: Webservice, log: Logger, observer: Observer, maxCallBytes: number): Router {
  const router = express.Router();
  const byLowerName = new Map(functionNames.map((name) => [name.toLowerCase(), name]));
  const parsers = [
    boundedCallJson(maxCallBytes),
    express.urlencoded({ extended: false, limit: maxCallBytes, parameterLimit: 50 }),
  ];

  // A browser's GET: say how the functions are called instead of a bare 404.
  router.get('/json/:function', (_req: Request, res: Response) => {
    res.status(405).set('allow', 'POST').json({ error: 3, message: 'the functions take POST, with a form-encoded or JSON body (username, password and their parameters); try them at /webservicedemo' });
  });

  router.post('/json/:function', ...parsers, async (req: Request, res: Response) => {
    const name = byLowerName.get(String(req.params.function).toLowerCase());
    if (!name) {
      res.status(404).json({ error: 3, message: `unknown function; the functions are ${functionNames.join(', ')}` });
      return;
    }
    const params = req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? req.body : {};
    const answer = await answerCall(webservice, { transport: 'json', fn: name, params, caller: { address: req.ip } }, requestLog(res, log), observer);
    res.json(answer);
  });
  return router;
}
