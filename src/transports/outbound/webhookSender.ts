import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent } from 'undici';
import type { AttemptOutcome, FailureClass } from '../../domain/delivery.js';
import { bareHost, isPublicAddress } from '../../domain/targetPolicy.js';

export interface OutboundRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
}

export interface Sender {
  send(request: OutboundRequest): Promise<AttemptOutcome>;
  close(): Promise<void>;
}

export interface SenderOptions {
  timeoutMs: number;
  allowPrivateTargets: boolean;
}

class TargetNotAllowedError extends Error {
  readonly code = 'ETARGETNOTALLOWED';
}

const excerptBytes = 300;

/**
 * POSTs deliveries with undici (a keep-alive pool per origin; see
 * docs/benchmarks.md for why not axios). Never throws for an answer or a
 * network failure: every attempt ends as an outcome. The address policy is
 * applied inside the connection's DNS lookup, so it holds for the address
 * actually connected, whatever the DNS said when the webhook was created.
 */
export class WebhookSender implements Sender {
  private readonly agent: Agent;

  constructor(private readonly options: SenderOptions) {
    const guardedLookup: LookupFunction = (hostname, lookupOptions, callback) => {
      dnsLookup(hostname, { ...lookupOptions, all: true }, (error, addresses: LookupAddress[]) => {
        if (error) return callback(error, '', 0);
        const allowed = options.allowPrivateTargets ? addresses : addresses.filter((a) => isPublicAddress(a.address));
        if (allowed.length === 0) {
          return callback(new TargetNotAllowedError(`${hostname} resolves to a private, local or reserved address`), '', 0);
        }
        if ((lookupOptions as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
        return callback(null, allowed[0]!.address, allowed[0]!.family);
      });
    };
    this.agent = new Agent({
      connect: { lookup: guardedLookup, timeout: options.timeoutMs },
      keepAliveTimeout: 30_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      // No cap per origin: the worker's concurrency bounds the connections, and
      // one webhook never has two requests in flight.
    });
  }

  async send(request: OutboundRequest): Promise<AttemptOutcome> {
    const started = performance.now();
    const elapsed = () => performance.now() - started;
    const url = new URL(request.url);
    const host = bareHost(url);
    if (!this.options.allowPrivateTargets && isIP(host) !== 0 && !isPublicAddress(host)) {
      return failure('target_not_allowed', `${host} is a private, local or reserved address`, null, elapsed());
    }
    try {
      const response = await this.agent.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: { ...request.headers, 'content-type': 'application/json', 'user-agent': 'newsletter-webhooks/1' },
        body: request.body,
        // The timeout is the agent's connect, headers and body timeouts: an
        // AbortSignal per request would cost a quarter of the sender's rate.
      });
      const status = response.statusCode;
      if (status >= 200 && status < 300) {
        await response.body.dump();
        return { succeeded: true, statusCode: status, durationMs: elapsed() };
      }
      const excerpt = await readExcerpt(response.body);
      if (status >= 300 && status < 400) {
        const location = response.headers.location;
        return failure('redirect', `HTTP ${status} redirect${location ? ` to ${String(location).slice(0, 200)}` : ''} (redirects are not followed)`, status, elapsed());
      }
      return failure('http_status', `HTTP ${status}${excerpt ? `: ${excerpt}` : ''}`, status, elapsed());
    } catch (error) {
      const [failureClass, text] = classify(error, this.options.timeoutMs);
      return failure(failureClass, text, null, elapsed());
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

function failure(failureClass: FailureClass, error: string, statusCode: number | null, durationMs: number): AttemptOutcome {
  return { succeeded: false, failureClass, error, statusCode, durationMs };
}

async function readExcerpt(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= excerptBytes) break;
    }
  } catch {
    // An answer that breaks off still tells its status.
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).subarray(0, excerptBytes).toString('utf8').replace(/\s+/g, ' ').trim().slice(0, 200);
}

function classify(error: unknown, timeoutMs: number): [FailureClass, string] {
  const err = error as { code?: string; name?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = err.code ?? err.cause?.code ?? '';
  const message = err.cause?.message ?? err.message ?? String(error);
  if (code === 'ETARGETNOTALLOWED') return ['target_not_allowed', message];
  if (err.name === 'TimeoutError' || err.name === 'AbortError' || /TIMEOUT/.test(code)) {
    return ['timeout', `no answer within ${timeoutMs} ms`];
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ENODATA') return ['dns', `DNS lookup failed (${code})`];
  if (code === 'ECONNREFUSED') return ['connection_refused', 'connection refused'];
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') return ['connection_reset', 'connection closed before the answer'];
  if (/CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code) || /certificate|tls|ssl/i.test(message)) {
    return ['tls', `TLS failed: ${message.slice(0, 150)}`];
  }
  return ['network', `${code || 'network error'}: ${message.slice(0, 150)}`];
}
