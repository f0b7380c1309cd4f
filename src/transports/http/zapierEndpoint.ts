import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from '../../logger.js';
import { ApiError, authenticationFailed, ErrorCode, webhookNotFound } from '../../domain/errors.js';
import { requiredId } from '../../domain/parameters.js';
import type { Account, Authenticator } from '../../services/authenticator.js';
import type { RestHooks } from '../../services/restHooks.js';
import { errorAnswer } from '../answer.js';
import { requestLog } from './requestLog.js';
import { boundedCallJson } from './jsonBody.js';

const challenge = 'Basic realm="newsletter-webhooks", charset="UTF-8"';

/** HTTP status for an answer's error code. */
function statusOf(code: number): number {
  switch (code) {
    case ErrorCode.authenticationFailed:
      return 401;
    case ErrorCode.webhookNotFound:
      return 404;
    case ErrorCode.limitReached:
      return 403;
    case ErrorCode.internal:
      return 500;
    default:
      return 400;
  }
}

/**
 * Zapier's REST Hooks (docs/zapier.md), with the account's username and
 * password as HTTP Basic auth and the webservice's login throttling:
 * GET /zapier/me, POST /zapier/hooks, DELETE /zapier/hooks/:id,
 * GET /zapier/samples/:event. Errors answer `{"error": code, "message": …}`.
 */
export function zapierEndpoint(authenticator: Authenticator, hooks: RestHooks, log: Logger): Router {
  const router = express.Router();

  /** The account of the request's Basic credentials; answers 401 (or 429 when throttled) itself and returns undefined otherwise. */
  async function account(req: Request, res: Response): Promise<Account | undefined> {
    const header = req.get('authorization') ?? '';
    const encoded = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header)?.[1];
    const decoded = encoded ? Buffer.from(encoded, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    try {
      if (colon < 1) throw authenticationFailed();
      return await authenticator.authenticate(decoded.slice(0, colon), decoded.slice(colon + 1), req.ip);
    } catch (error) {
      const answer = errorAnswer(error, requestLog(res, log), { transport: 'zapier' });
      if (answer.error === ErrorCode.limitReached) res.status(429).set('retry-after', '60').json(answer);
      else if (answer.error === ErrorCode.authenticationFailed) res.status(401).set('www-authenticate', challenge).json(answer);
      else res.status(statusOf(answer.error)).json(answer);
      return undefined;
    }
  }

  function failed(res: Response, error: unknown): void {
    const answer = errorAnswer(error, requestLog(res, log), { transport: 'zapier' });
    res.status(statusOf(answer.error)).json(answer);
  }

  router.get('/zapier/me', async (req: Request, res: Response) => {
    const caller = await account(req, res);
    if (caller) res.json({ username: caller.username });
  });

  router.post('/zapier/hooks', boundedCallJson('64kb'), async (req: Request, res: Response) => {
    const caller = await account(req, res);
    if (!caller) return;
    const body = req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {};
    try {
      const webhook = await hooks.subscribe(caller, { hookUrl: body.hookUrl, event: body.event });
      requestLog(res, log).info({ transport: 'zapier', webhook: webhook.id }, 'zapier hook subscribed');
      res.status(201).json({ id: webhook.id });
    } catch (error) {
      failed(res, error);
    }
  });

  router.delete('/zapier/hooks/:id', async (req: Request, res: Response) => {
    const caller = await account(req, res);
    if (!caller) return;
    try {
      await hooks.unsubscribe(caller, requiredId({ id: req.params.id }, 'id'));
      res.status(204).end();
    } catch (error) {
      // An id that is not a number names no hook of this account either.
      if (error instanceof ApiError && error.code === ErrorCode.invalidParameter) return failed(res, webhookNotFound());
      failed(res, error);
    }
  });

  router.get('/zapier/samples/:event', async (req: Request, res: Response) => {
    const caller = await account(req, res);
    if (!caller) return;
    try {
      res.json(await hooks.samples(caller, String(req.params.event)));
    } catch (error) {
      failed(res, error);
    }
  });
  return router;
}
