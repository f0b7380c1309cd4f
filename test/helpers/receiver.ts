import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac } from 'node:crypto';

export interface Receipt {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What the receiver does with a request: answer with a status, or hang until the client gives up. */
export type Reply = { status: number; body?: string; headers?: Record<string, string>; delayMs?: number } | 'hang';

/** A webhook receiver on loopback whose answers each test scripts. */
export class TestReceiver {
  readonly receipts: Receipt[] = [];
  /** Requests being answered right now, and the most there ever were at once. */
  inFlight = 0;
  maxInFlight = 0;
  reply: (receipt: Receipt, index: number) => Reply = () => ({ status: 200 });
  private server: Server | undefined;
  private port = 0;
  private readonly hanging = new Set<ServerResponse>();
  private waiters: Array<() => void> = [];

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const receipt = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        this.receipts.push(receipt);
        this.inFlight += 1;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        res.once('close', () => (this.inFlight -= 1));
        const reply = this.reply(receipt, this.receipts.length - 1);
        const waiters = this.waiters;
        this.waiters = [];
        waiters.forEach((wake) => wake());
        if (reply === 'hang') {
          this.hanging.add(res);
          return;
        }
        const answer = () => {
          res.writeHead(reply.status, { 'content-type': 'text/plain', ...reply.headers });
          res.end(reply.body ?? '');
        };
        if (reply.delayMs) setTimeout(answer, reply.delayMs);
        else answer();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Receipts carrying this header, in arrival order. */
  ids(): string[] {
    return this.receipts.map((r) => String(r.headers['webhook-id']));
  }

  async waitFor(count: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.receipts.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`receiver got ${this.receipts.length} requests, expected ${count}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** The Standard Webhooks check a receiver makes: does one of the signatures match this secret? */
export function signedWith(receipt: Receipt, secret: string): boolean {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key).update(`${receipt.headers['webhook-id']}.${receipt.headers['webhook-timestamp']}.${receipt.body}`).digest('base64');
  return String(receipt.headers['webhook-signature']).split(' ').includes(`v1,${expected}`);
}
