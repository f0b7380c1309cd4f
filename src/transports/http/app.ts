import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../../logger.js';
import type { Webservice } from '../../services/webservice.js';
import { soapEndpoint } from '../soap/soapEndpoint.js';
import { jsonEndpoint } from './jsonEndpoint.js';
import { TooDeeplyNested } from './jsonBody.js';
import { assignRequestId, requestLog } from './requestLog.js';
import type { Observer } from '../../services/observer.js';

export interface HttpAppOptions {
  wsdl: string;
  observer: Observer;
  /** Prometheus text for GET /metrics; nginx keeps it to the internal network. */
  metrics: () => Promise<{ contentType: string; body: string }>;
  /** The largest webservice call (SOAP or JSON); larger ones are refused before they are parsed. */
  maxCallBytes: number;
  trustProxy: string;
  /** Resolves when the database answers and its schema is current. */
  checkReady: () => Promise<void>;
  /** Further routes (intake, pages), mounted after the webservice. */
  extraRouters?: express.Router[];
}

export function createHttpApp(webservice: Webservice, log: Logger, options: HttpAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  // Webservice answers are never cached or revalidated: hashing each body for an ETag is wasted work.
  app.set('etag', false);
  // Login throttling and logs must see the real client, which only a trusted proxy may tell.
  app.set('trust proxy', options.trustProxy);
  // A repeated query parameter counts once, by its first value: no handler meets a list where it reads text.
  app.set('query parser', firstValues);

  app.use(assignRequestId(log));
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  // Anyone may ask: the answer names no host, user or error; the log has the details.
  app.get('/readyz', (_req, res) => {
    options.checkReady().then(
      () => res.type('text/plain').send('ready\n'),
      (error: Error) => {
        requestLog(res, log).warn({ err: error }, 'not ready');
        res.status(503).type('text/plain').send('database unavailable\n');
      },
    );
  });

  app.get('/metrics', (_req, res) => {
    options.metrics().then(
      ({ contentType, body }) => res.type(contentType).send(body),
      (error: Error) => {
        requestLog(res, log).warn({ err: error }, 'metrics unavailable');
        res.status(503).type('text/plain').send('metrics unavailable\n');
      },
    );
  });

  app.use(soapEndpoint(webservice, log, options.observer, { wsdl: options.wsdl, maxCallBytes: options.maxCallBytes }));
  app.use(jsonEndpoint(webservice, log, options.observer, options.maxCallBytes));
  for (const router of options.extraRouters ?? []) app.use(router);

  app.use((_req, res) => {
    res.status(404).type('text/plain').send('not found\n');
  });
  // Body-parser failures (malformed JSON, too large) still answer in the webservice's shape.
  app.use((error: Error & { status?: number; type?: string }, req: Request, res: Response, _next: NextFunction) => {
    const status = error.status && error.status >= 400 && error.status < 500 ? error.status : 500;
    if (status === 500) log.error({ err: error, path: req.path }, 'unhandled error');
    // The rest of an oversized body is not read: the connection ends with the answer.
    if (error.type === 'entity.too.large') res.set('connection', 'close');
    const message =
      error.type === 'entity.too.large' ? 'the request is too large'
      : error.type === 'entity.parse.failed' ? 'the request body is not valid JSON'
      : error instanceof TooDeeplyNested ? error.message
      : status === 500 ? 'internal error' : 'the request could not be read';
    res.status(status).json({ error: status === 500 ? 99 : 3, message });
  });
  return app;
}

function firstValues(query: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(query)) if (!Object.hasOwn(values, name)) values[name] = value;
  return values;
}
