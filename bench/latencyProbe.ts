import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

/** What makes an arrival: by default the payload's field n, one arrival per event whatever webhook it came by. */
export type ArrivalKey = (path: string, payload: Record<string, unknown>) => string;

/**
 * A receiver in the benchmark process that notes when each event (by `key`)
 * first arrives, and counts every request; `refuse` may answer a request 502
 * instead (not an arrival).
 */
export class ArrivalRecorder {
  readonly arrivals = new Map<string, number>();
  refused = 0;
  requests = 0;
  private readonly server: Server;

  constructor(private readonly delayMs = 0, refuse: () => boolean = () => false, key: ArrivalKey = (_path, payload) => String(payload.n)) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        this.requests += 1;
        const n = key(req.url ?? '', JSON.parse(Buffer.concat(chunks).toString()));
        if (refuse()) {
          this.refused += 1;
          res.writeHead(502).end();
          return;
        }
        if (!this.arrivals.has(n)) this.arrivals.set(n, performance.now());
        if (this.delayMs) setTimeout(() => res.writeHead(204).end(), this.delayMs);
        else res.writeHead(204).end();
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  async waitFor(count: number, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.arrivals.size < count && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  close(): void {
    this.server.closeAllConnections();
    this.server.close();
  }
}

export interface Intake {
  origin: string;
  token: string;
}

/**
 * Reports `count` events through POST /internal/events at a steady rate and
 * returns when each intake call began (keyed by its n). Events carry `n` and a
 * subscriber of their own, so that they may travel in parallel lanes.
 */
export async function emitSteadily(
  intake: Intake,
  account: string,
  count: number,
  perSecond: number,
  prefix = '',
  /** Filled with when each intake call was answered (the event accepted). */
  answered?: Map<string, number>,
): Promise<Map<string, number>> {
  const pool = new Pool(intake.origin, { connections: 4 });
  const emitted = new Map<string, number>();
  const first = performance.now();
  try {
    for (let i = 0; i < count; i += 1) {
      const wait = i * (1000 / perSecond) - (performance.now() - first);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const n = `${prefix}${i}`;
      emitted.set(n, performance.now());
      const response = await pool.request({
        method: 'POST', path: '/internal/events',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${intake.token}` },
        body: JSON.stringify({ account, event: 'optin_finalized', subscriber: n, payload: { n } }),
      });
      await response.body.dump();
      if (response.statusCode !== 202) throw new Error(`intake answered ${response.statusCode}`);
      answered?.set(n, performance.now());
    }
  } finally {
    await pool.close();
  }
  return emitted;
}

export interface Latencies {
  p50: number;
  p99: number;
  max: number;
  received: number;
  count: number;
}

/** Intake-to-receipt latency per event; an event that never arrived counts as infinitely late. */
export function latencies(emitted: Map<string, number>, arrivals: Map<string, number>): Latencies {
  const sorted = [...emitted].map(([n, at]) => (arrivals.get(n) ?? Number.POSITIVE_INFINITY) - at).sort((a, b) => a - b);
  const percentile = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
  return { p50: percentile(50), p99: percentile(99), max: sorted[sorted.length - 1]!, received: [...emitted.keys()].filter((n) => arrivals.has(n)).length, count: sorted.length };
}

export const ms = (value: number) => (Number.isFinite(value) ? `${value.toFixed(1)} ms` : 'never');
