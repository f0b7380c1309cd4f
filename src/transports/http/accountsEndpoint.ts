import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from '../../logger.js';
import type { AccountService } from '../../services/accounts.js';
import type { AccountView } from '../../storage/accountsStore.js';
import { errorAnswer, wireDateTime } from '../answer.js';
import { internalCaller } from './internalCaller.js';
import { boundedCallJson } from './jsonBody.js';

function wireAccount(account: AccountView): Record<string, unknown> {
  return { username: account.username, email: account.email, language: account.language, createdAt: wireDateTime(account.createdAt), webhooks: account.webhooks };
}

/** HTTP status of a refused call: the webservice's code in the body, the usual status on the line. */
const statusOf = (error: number) => (error === 4 ? 404 : error === 99 ? 500 : 400);

/**
 * The platform keeps its API users in step (bearer INTERNAL_TOKEN):
 *   PUT    /internal/accounts/{username}  create, or change what is given: {password | passwordHash, email, language}
 *   GET    /internal/accounts/{username}  the account, without secrets
 *   DELETE /internal/accounts/{username}  close it: its webhooks and everything stored for it go
 * Every change is logged with the account's name and what changed, never a password or hash.
 */
export function accountsEndpoint(accounts: AccountService, log: Logger, options: { internalToken: string | undefined }): Router {
  const router = express.Router();
  const guarded = [internalCaller(options.internalToken), boundedCallJson(16 * 1024)];
  const answer = (work: (username: string, req: Request) => Promise<{ status: number; result: unknown }>) => async (req: Request, res: Response) => {
    try {
      const { status, result } = await work(String(req.params.username), req);
      res.status(status).json({ error: 0, message: '', result });
    } catch (error) {
      const refused = errorAnswer(error, log, { transport: 'accounts' });
      res.status(statusOf(refused.error)).json(refused);
    }
  };

  router.put('/internal/accounts/:username', ...guarded, answer(async (username, req) => {
    const body = req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? (req.body as Record<string, unknown>) : {};
    const { created, account } = await accounts.put(username, body);
    const changed = Object.keys(body).map((key) => (key === 'passwordHash' ? 'password' : key));
    log.info({ transport: 'accounts', account: username, changed }, created ? 'account created' : 'account changed');
    return { status: created ? 201 : 200, result: wireAccount(account) };
  }));

  router.get('/internal/accounts/:username', ...guarded, answer(async (username) => ({ status: 200, result: wireAccount(await accounts.get(username)) })));

  router.delete('/internal/accounts/:username', ...guarded, answer(async (username) => {
    const closed = await accounts.close(username);
    log.info({ transport: 'accounts', account: username, closed }, 'account closed');
    return { status: 200, result: closed };
  }));
  return router;
}
