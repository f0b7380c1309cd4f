import express, { type Request, type Response, type Router } from 'express';
import type { Logger } from '../../logger.js';
import type { Caller, Webservice } from '../../services/webservice.js';
import type { Observer } from '../../services/observer.js';
import { requestLog } from '../http/requestLog.js';
import { answerCall, type Answer } from '../answer.js';
import { parseSoapRequest, SoapFault } from './soapRequest.js';
import { renderFault, renderResponse } from './soapResponse.js';

const xmlContentType = 'text/xml; charset=utf-8';

export interface SoapEndpointOptions {
  wsdl: string;
  maxCallBytes: number;
}

/**
 * One SOAP request, from its text to the HTTP status and envelope it gets:
 * what POST /soap does, and what the Webservicedemo runs.
 */
export async function processSoapRequest(
  webservice: Webservice,
  log: Logger,
  observer: Observer,
  body: string,
  caller: Caller,
  soapAction?: string,
): Promise<{ status: number; xml: string; answer?: Answer }> {
  let call;
  try {
    call = parseSoapRequest(body);
    checkSoapAction(soapAction, call.function);
  } catch (error) {
    if (!(error instanceof SoapFault)) throw error;
    log.info({ transport: 'soap', fault: error.faultCode, reason: error.message }, 'soap request refused');
    return { status: error.httpStatus, xml: renderFault(error.faultCode, error.message) };
  }
  const answer = await answerCall(webservice, { transport: 'soap', fn: call.function, params: call.params, caller }, log, observer);
  return { status: 200, xml: renderResponse(call.function, answer), answer };
}

/**
 * A proxy may route or filter on SOAPAction, so it must not name one function
 * while the body calls another. The WSDL's value is `urn:newsletter-webhooks#Name`;
 * a client that sends none, or an empty one, means "the body says".
 */
function checkSoapAction(header: string | undefined, fn: string): void {
  const action = (header ?? '').trim().replace(/^"(.*)"$/, '$1');
  if (action === '') return;
  const named = action.split(/[#/]/).pop();
  if (named !== fn) throw new SoapFault('Client', `the SOAPAction header names '${named}', but the body calls '${fn}'`);
}

/**
 * POST /soap and GET /soap?wsdl. Parsing, dispatch and rendering are our own
 * (see docs/decisions.md: the `soap` package's server answers bad requests with
 * stack traces and parses ints loosely); the wire format is the package's.
 */
export function soapEndpoint(webservice: Webservice, log: Logger, observer: Observer, options: SoapEndpointOptions): Router {
  const router = express.Router();

  router.get('/soap', (req: Request, res: Response) => {
    if (Object.keys(req.query).some((key) => key.toLowerCase() === 'wsdl')) {
      res.type('text/xml; charset=utf-8').send(options.wsdl);
      return;
    }
    res.status(405).type('text/plain').send('POST a SOAP 1.1 envelope here; the WSDL is at /soap?wsdl\n');
  });

  // The limit is enforced while the body is read: a larger request is never parsed.
  const readBody = express.raw({ type: () => true, limit: options.maxCallBytes });
  router.post('/soap', (req: Request, res: Response) => {
    readBody(req, res, (error?: unknown) => {
      if (error) {
        const tooLarge = (error as { type?: string }).type === 'entity.too.large';
        const message = tooLarge ? `the request is larger than ${options.maxCallBytes} bytes` : 'the request body could not be read';
        // The rest of an oversized body is not read: the connection ends with the answer.
        res.set('connection', 'close');
        res.status(tooLarge ? 413 : 400).type(xmlContentType).send(renderFault('Client', message));
        return;
      }
      handleCall(req, res).catch((failure: unknown) => {
        requestLog(res, log).error({ err: failure, transport: 'soap' }, 'soap request failed');
        if (!res.headersSent) res.status(500).type(xmlContentType).send(renderFault('Server', 'internal error'));
      });
    });
  });

  async function handleCall(req: Request, res: Response): Promise<void> {
    const body = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    const answer = await processSoapRequest(webservice, requestLog(res, log), observer, body, { address: req.ip }, req.get('soapaction'));
    res.status(answer.status).type(xmlContentType).send(answer.xml);
  }

  return router;
}
