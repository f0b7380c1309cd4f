import type { LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, type Dispatcher } from 'undici';
import type { AttemptOutcome, FailureClass } from '../../domain/delivery.js';
import { bareHost, isNonPublicLiteral, isPublicAddress } from '../../domain/targetPolicy.js';
import type { OutboundRequest, ResolveHost, Sender } from '../../services/ports.js';
import { decodeExcerpt } from './answerExcerpt.js';
import { createHostResolver } from './hostResolver.js';

export interface SenderOptions {
  timeoutMs: number;
  allowPrivateTargets: boolean;
  /** How much of an answer's body is kept as the attempt's response (RESPONSE_EXCERPT_BYTES). */
  excerptBytes?: number;
  /** c-ares by default; tests give a resolver that misbehaves. */
  resolveHost?: ResolveHost;
}

class TargetNotAllowedError extends Error {
  readonly code = 'ETARGETNOTALLOWED';
}

class DeadlineError extends Error {
  readonly code = 'EDEADLINE';
}

// What is read of an answer: enough of an error answer for its text and its
// excerpt, and of a success so much that a normal empty or short body lets the
// connection be reused. Past that the connection is closed: nobody's memory or
// time is spent on a body nobody reads.
const errorTextBytes = 300;
const successBodyBytes = 16 * 1024;

/**
 * POSTs webhook requests with undici (a keep-alive pool per origin; see
 * docs/benchmarks.md for why not axios). Every attempt has one hard deadline
 * covering DNS, connect, TLS, sending, the answer's headers and its body: one
 * timer per attempt, which aborts the request and closes its socket; undici's
 * own timeouts restart on every byte and could not bound a trickling peer.
 * Never throws: every attempt ends as an outcome. The address policy is
 * applied inside the connection's DNS lookup, so it holds for the address
 * actually connected, whatever the DNS said when the webhook was created.
 */
export class WebhookSender implements Sender {
  private readonly agent: Agent;
  // A webhook's URL is parsed and checked once, not on every attempt.
  private readonly targets = new Map<string, Target | string>();

  constructor(private readonly options: SenderOptions) {
    const resolveHost = options.resolveHost ?? createHostResolver(options.timeoutMs);
    const guardedLookup: LookupFunction = (hostname, lookupOptions, callback) => {
      resolveHost(hostname).then(
        (found) => {
          const addresses = found.filter((address) => options.allowPrivateTargets || isPublicAddress(address));
          if (found.length === 0) return callback(Object.assign(new Error(`${hostname} does not resolve`), { code: 'ENOTFOUND' }), '', 0);
          if (addresses.length === 0) {
            return callback(new TargetNotAllowedError(`${hostname} resolves to a private, local or reserved address`), '', 0);
          }
          const entries: LookupAddress[] = addresses.map((address) => ({ address, family: isIP(address) }));
          if ((lookupOptions as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, entries);
          return callback(null, entries[0]!.address, entries[0]!.family);
        },
        (error: Error) => callback(error as NodeJS.ErrnoException, '', 0),
      );
    };
    this.agent = new Agent({
      connect: { lookup: guardedLookup, timeout: options.timeoutMs },
      keepAliveTimeout: 30_000,
      // Backstops only: the attempt's own deadline ends it first.
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  send(request: OutboundRequest): Promise<AttemptOutcome> {
    const started = performance.now();
    const target = this.target(request.url);
    if (typeof target === 'string') return Promise.resolve(failure('target_not_allowed', target, null, performance.now() - started));
    const headers = ['content-type', 'application/json', 'user-agent', 'newsletter-webhooks/1'];
    for (const name in request.headers) headers.push(name, request.headers[name]!);
    return new Promise((resolve) => {
      const attempt = new Attempt(started, this.options.timeoutMs, this.options.excerptBytes ?? 1024, resolve, request.onWritten);
      this.agent.dispatch({ origin: target.origin, path: target.path, method: 'POST', headers, body: request.body }, attempt);
    });
  }

  /** Where a URL points, or why it may not be sent to (a private IP literal). */
  private target(raw: string): Target | string {
    let target = this.targets.get(raw);
    if (target === undefined) {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        return 'the URL is not valid';
      }
      const host = bareHost(url);
      target = !this.options.allowPrivateTargets && isNonPublicLiteral(host)
        ? `${host} is a private, local or reserved address`
        : { origin: url.origin, path: `${url.pathname}${url.search}` };
      if (this.targets.size >= 10_000) this.targets.clear();
      this.targets.set(raw, target);
    }
    return target;
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

interface Target {
  origin: string;
  path: string;
}

/**
 * One attempt as undici's dispatch handler: knows its phase, keeps at most an
 * excerpt of the answer, and settles exactly once (answer, error or deadline).
 */
class Attempt implements Dispatcher.DispatchHandler {
  private phase: 'connect' | 'response' | 'body' = 'connect';
  private abortRequest: ((error?: Error) => void) | undefined;
  private settled = false;
  private status = 0;
  private location: string | undefined;
  private retryAfterSeconds: number | undefined;
  private contentType: string | undefined;
  private readonly excerpt: Buffer[] = [];
  private bytes = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly started: number,
    private readonly timeoutMs: number,
    private readonly excerptBytes: number,
    private readonly resolve: (outcome: AttemptOutcome) => void,
    private readonly written: (() => void) | undefined,
  ) {
    this.timer = setTimeout(() => this.expire(), timeoutMs);
  }

  // undici calls this right before it writes the request onto a connected socket.
  onConnect(abort: (error?: Error) => void): void {
    // A connection that comes up after the deadline carries nothing.
    if (this.settled) return abort(new DeadlineError('deadline passed'));
    this.abortRequest = abort;
    this.phase = 'response';
    this.written?.();
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    // 1xx answers (102 Processing) are not the answer; the deadline keeps running.
    if (statusCode < 200) return true;
    this.status = statusCode;
    this.phase = 'body';
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      const name = rawHeaders[i]!.toString('latin1').toLowerCase();
      if (name === 'content-type') this.contentType = rawHeaders[i + 1]!.toString('latin1');
      else if (name === 'location' && statusCode >= 300 && statusCode < 400) this.location = rawHeaders[i + 1]!.toString('utf8').slice(0, 200);
      else if (name === 'retry-after' && statusCode === 429) this.retryAfterSeconds = retryAfterSeconds(rawHeaders[i + 1]!.toString('latin1'), Date.now());
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    const kept = Math.max(this.excerptBytes, this.succeeded() ? 0 : errorTextBytes);
    const limit = this.succeeded() ? Math.max(successBodyBytes, kept) : kept;
    if (this.bytes < kept) this.excerpt.push(chunk);
    this.bytes += chunk.length;
    if (this.bytes > limit) {
      this.settle(this.answered());
      this.abortRequest?.(new DeadlineError('answer too long'));
      return false;
    }
    return true;
  }

  onComplete(): void {
    this.settle(this.answered());
  }

  onError(error: Error): void {
    if (this.settled) return;
    // An answer that breaks off after its status still tells its status.
    if (this.phase === 'body') return this.settle(this.answered());
    const [failureClass, text] = classify(error, this.timeoutMs);
    this.settle(failure(failureClass, text, null, this.elapsed()));
  }

  private expire(): void {
    if (this.settled) return;
    if (this.phase === 'body') this.settle(this.answered());
    else if (this.phase === 'response') this.settle(failure('response_timeout', `no answer within ${this.timeoutMs} ms`, null, this.elapsed()));
    else this.settle(failure('connect_timeout', `no connection within ${this.timeoutMs} ms`, null, this.elapsed()));
    this.abortRequest?.(new DeadlineError('deadline passed'));
  }

  private settle(outcome: AttemptOutcome): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.resolve(outcome);
  }

  private succeeded(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  /** The outcome once the status is known; the body read so far gives an error its text, and every answer its excerpt. */
  private answered(): AttemptOutcome {
    const durationMs = this.elapsed();
    const body = Buffer.concat(this.excerpt);
    const response = body.length > 0 && this.excerptBytes > 0 ? { response: decodeExcerpt(body.subarray(0, this.excerptBytes), this.contentType) } : {};
    if (this.succeeded()) return { succeeded: true, statusCode: this.status, durationMs, ...response };
    if (this.status < 400) {
      const target = this.location ? ` to ${this.location}` : '';
      return { ...failure('redirect', `HTTP ${this.status} redirect${target} (redirects are not followed)`, this.status, durationMs), ...response };
    }
    const text = body.subarray(0, errorTextBytes).toString('utf8').replace(/\s+/g, ' ').trim().slice(0, 200);
    return { ...failure('http_status', `HTTP ${this.status}${text ? `: ${text}` : ''}`, this.status, durationMs, this.retryAfterSeconds), ...response };
  }

  private elapsed(): number {
    return performance.now() - this.started;
  }
}

function failure(failureClass: FailureClass, error: string, statusCode: number | null, durationMs: number, retryAfterSeconds?: number): AttemptOutcome {
  return retryAfterSeconds === undefined
    ? { succeeded: false, failureClass, error, statusCode, durationMs }
    : { succeeded: false, failureClass, error, statusCode, durationMs, retryAfterSeconds };
}

/** Retry-After as seconds from now: delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when it is neither. */
export function retryAfterSeconds(value: string, nowMs: number): number | undefined {
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - nowMs) / 1000));
}

function classify(error: unknown, timeoutMs: number): [FailureClass, string] {
  const err = error as { code?: string; name?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = err.code ?? err.cause?.code ?? '';
  const message = err.cause?.message ?? err.message ?? String(error);
  if (code === 'ETARGETNOTALLOWED') return ['target_not_allowed', message];
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return ['connect_timeout', `no connection within ${timeoutMs} ms`];
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return ['response_timeout', `no answer within ${timeoutMs} ms`];
  if (code === 'ETIMEOUT') return ['dns', 'DNS lookup timed out'];
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ENODATA' || code === 'ESERVFAIL') return ['dns', `DNS lookup failed (${code})`];
  if (code === 'ECONNREFUSED') return ['connection_refused', 'connection refused'];
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'EPIPE') return ['connection_reset', 'connection closed before the answer'];
  if (/CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code) || /certificate|tls|ssl/i.test(message)) {
    return ['tls', `TLS failed: ${message.slice(0, 150)}`];
  }
  return ['network', `${code || 'network error'}: ${message.slice(0, 150)}`];
}
