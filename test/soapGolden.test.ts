import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { listen as soapListen } from 'soap';
import type { AddressInfo } from 'node:net';
import { functionNames, type FunctionName } from '../src/services/webservice.js';
import type { Answer } from '../src/transports/answer.js';
import { renderResponse, resultObject } from '../src/transports/soap/soapResponse.js';
import { loadWsdl } from '../src/transports/soap/wsdl.js';
import { ManualClock, makeAccount, startService, type RunningService } from './helpers/service.js';

const goldenDirectory = path.join(path.dirname(fileURLToPath(import.meta.url)), 'golden');
const update = process.env.UPDATE_GOLDEN === '1';

const webhook = {
  id: 7, app: 'shop & "more" <x>', event: 'optin_finalized', url: 'https://hooks.example.com/in?a=1&b=2', active: true,
  createdAt: '2026-01-01T09:27:29Z', failureCount: 0, bufferedEvents: 0, secret: 'whsec_abc',
};
const deactivated = {
  id: 8, app: 'crm', event: 'optout_finalized', url: 'https://crm.example.com/', active: false, createdAt: '2026-01-01T09:27:29Z',
  deactivatedAt: '2026-01-02T10:00:00Z', failureCount: 8, lastError: 'HTTP 500: "oops"', bufferedEvents: 3, secret: 'whsec_def',
};

const delivered = { messageId: 'msg_41', event: 'optin_finalized', occurredAt: '2026-01-01T09:27:29Z', status: 'delivered', attempts: 1, lastAttemptAt: '2026-01-01T09:27:30Z', lastStatusCode: 204 };
const pending = {
  messageId: 'msg_42', event: 'optin_finalized', occurredAt: '2026-01-01T09:28:00Z', status: 'pending', attempts: 2, lastAttemptAt: '2026-01-01T09:30:00Z',
  lastStatusCode: 500, lastFailureClass: 'http_status', lastError: 'HTTP 500: <b>"oops"</b> & more',
};

// The answers whose rendering must match the `soap` package's server byte for byte.
const answers: Array<[FunctionName, Answer]> = [
  ['CreateWebHook', { error: 0, message: '', result: webhook }],
  ['CreateWebHook', { error: 3, message: "parameter 'event' must be optin_finalized" }],
  ['GetWebHooks', { error: 0, message: '', result: [] }],
  ['GetWebHooks', { error: 0, message: '', result: [webhook] }],
  ['GetWebHooks', { error: 0, message: '', result: [webhook, deactivated] }],
  ['GetWebHooks', { error: 1, message: 'authentication failed' }],
  ['ActivateWebHook', { error: 0, message: '', result: { ...deactivated, active: true, replayedEvents: 3 } }],
  ['ActivateWebHook', { error: 0, message: 'webhook is already active', result: { ...webhook, replayedEvents: 0 } }],
  ['DeleteWebHookById', { error: 0, message: '', result: true }],
  ['DeleteWebHookById', { error: 4, message: 'no webhook with this id' }],
  ['TestWebHook', { error: 0, message: '', result: { succeeded: true, statusCode: 204, durationMs: 12 } }],
  ['TestWebHook', { error: 0, message: '', result: { succeeded: false, durationMs: 10001, failureClass: 'response_timeout', error: 'no answer within 10000 ms' } }],
  ['TestWebHook', { error: 6, message: 'a webhook may be tested at most 5 times a minute' }],
  ['GetWebHookDeliveries', { error: 0, message: '', result: [] }],
  ['GetWebHookDeliveries', { error: 0, message: '', result: [delivered] }],
  ['GetWebHookDeliveries', { error: 0, message: '', result: [pending, delivered] }],
  ['RotateWebHookSecret', { error: 0, message: '', result: webhook }],
  ['UpdateWebHook', { error: 0, message: '', result: { ...webhook, maxPerSecond: 20, headers: [{ name: 'Authorization' }, { name: 'X-Tenant' }] } }],
  ['UpdateWebHook', { error: 0, message: '', result: { ...webhook, maxPerSecond: 0, headers: [{ name: 'Authorization' }] } }],
  ['UpdateWebHook', { error: 3, message: "parameter 'headers' may not set header 'Host': the service sets it or it frames the request" }],
  ['GetWebHooks', { error: 0, message: '', result: [{ ...webhook, maxPerSecond: 0, headers: [{ name: 'A' }] }, { ...deactivated, maxPerSecond: 5 }] }],
  ['ResendWebHookDelivery', { error: 0, message: '', result: { ...delivered, status: 'pending' } }],
  ['ResendWebHookDelivery', { error: 4, message: 'no delivery with this messageId in this webhook' }],
  ['RecoverWebHookDeliveries', { error: 0, message: '', result: { scheduled: 12 } }],
  ['RecoverWebHookDeliveries', { error: 6, message: '10001 deliveries lie in the window, more than 10000 at once: recover a shorter window' }],
  ['GetWebHookDeliveryAttempts', { error: 0, message: '', result: [] }],
  ['GetPortalLink', { error: 0, message: '', result: 'https://webhooks.example.com/portal/signin?token=abc_DEF-123' }],
  ['GetPortalLink', { error: 4, message: 'no webhook with this id' }],
  ['GetWebHookDeliveryAttempts', {
    error: 0, message: '',
    result: [
      { attemptedAt: '2026-01-01T09:27:30Z', durationMs: 31, statusCode: 422, failureClass: 'http_status', error: 'HTTP 422: bad', response: '{"error": "<b>bad</b> & worse"}' },
      { attemptedAt: '2026-01-01T09:28:30Z', durationMs: 10001, failureClass: 'response_timeout', error: 'no answer within 10000 ms' },
    ],
  }],
];

describe('the SOAP wire format', () => {
  describe('matches the soap package', () => {
    let baseUrl: string;
    let server: import('node:http').Server;
    let current: Answer;

    before(async () => {
      const app = express();
      server = await new Promise((resolve) => {
        const s = app.listen(0, '127.0.0.1', () => resolve(s));
      });
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const port = Object.fromEntries(functionNames.map((fn) => [fn, () => ({ [`${fn}Result`]: resultObject(fn, current) })]));
      soapListen(app, { path: '/soap', services: { WebHookService: { WebHookServiceSoap: port } }, xml: loadWsdl(baseUrl) });
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    for (const [fn, answer] of answers) {
      it(`${fn} answering error ${answer.error}${Array.isArray(answer.result) ? ` with ${answer.result.length} webhooks` : ''}`, async () => {
        current = answer;
        const request = `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><${fn} xmlns="urn:newsletter-webhooks"/></s:Body></s:Envelope>`;
        const response = await fetch(`${baseUrl}/soap`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: request });
        expect(renderResponse(fn, answer)).to.equal(await response.text());
      });
    }
  });

  describe('golden envelopes', () => {
    let service: RunningService;
    const clock = new ManualClock('2026-01-01T09:27:29Z');

    before(async () => {
      // The test request's host does not resolve: a fixed answer, whatever the network.
      service = await startService({}, { clock, senderResolveHost: async () => [] });
      await makeAccount(service, { username: 'golden', password: 'golden-password' });
    });
    after(() => service.stop());

    // In order: the later requests act on the webhook the first one creates.
    for (const fn of ['CreateWebHook', 'GetWebHooks', 'ActivateWebHook', 'TestWebHook', 'GetWebHookDeliveries', 'RotateWebHookSecret', 'UpdateWebHook', 'ResendWebHookDelivery', 'RecoverWebHookDeliveries', 'GetWebHookDeliveryAttempts', 'DeleteWebHookById']) {
      it(`${fn}: the request in test/golden gets exactly the stored response`, async () => {
        const request = readFileSync(path.join(goldenDirectory, `${fn}.request.xml`), 'utf8');
        const response = await fetch(`${service.baseUrl}/soap`, {
          method: 'POST',
          headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: `"urn:newsletter-webhooks#${fn}"` },
          body: request,
        });
        expect(response.headers.get('content-type')).to.equal('text/xml; charset=utf-8');
        // The signing secret is random and a request's duration varies; everything else is fixed by the clock and a fresh database.
        const text = (await response.text()).replace(/whsec_[A-Za-z0-9+/=]+/g, 'whsec_SECRET').replace(/<durationMs>\d+<\/durationMs>/, '<durationMs>0</durationMs>');
        const goldenFile = path.join(goldenDirectory, `${fn}.response.xml`);
        if (update) writeFileSync(goldenFile, text);
        expect(text).to.equal(readFileSync(goldenFile, 'utf8'));
      });
    }
  });
});
