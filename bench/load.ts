import { Pool } from 'undici';

export interface LoadResult {
  requests: number;
  seconds: number;
  perSecond: number;
  /** Milliseconds per request: median, 99th percentile, slowest. */
  p50: number;
  p99: number;
  max: number;
}

/**
 * Sends the same POST as fast as `concurrency` keep-alive connections allow,
 * for `seconds`, and counts the answers; `check` guards against measuring errors.
 */
export async function postLoad(
  origin: string,
  path: string,
  body: string,
  concurrency: number,
  seconds: number,
  check: (status: number, text: string) => boolean,
): Promise<LoadResult> {
  const pool = new Pool(origin, { connections: concurrency, pipelining: 1 });
  const deadline = performance.now() + seconds * 1000;
  const latencies: number[] = [];
  const started = performance.now();
  async function lane(): Promise<void> {
    while (performance.now() < deadline) {
      const sent = performance.now();
      const response = await pool.request({ method: 'POST', path, body, headers: { 'content-type': 'text/xml; charset=utf-8' } });
      const text = await response.body.text();
      if (!check(response.statusCode, text)) throw new Error(`unexpected answer ${response.statusCode}: ${text.slice(0, 200)}`);
      latencies.push(performance.now() - sent);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane));
  const elapsed = (performance.now() - started) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? Number.NaN;
  return { requests: latencies.length, seconds: elapsed, perSecond: latencies.length / elapsed, p50: at(0.5), p99: at(0.99), max: latencies[latencies.length - 1] ?? Number.NaN };
}
