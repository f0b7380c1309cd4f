import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface LoadedReceiverOptions {
  /** Requests handled at once (PHP-FPM's pm.max_children); more wait in the backlog. */
  workers: number;
  /** Requests that may wait for a worker (listen.backlog); beyond it the front answers 503 at once. */
  backlog: number;
  /** What a request takes when it is alone. */
  serviceMs: number;
  /** What each other request being handled adds to a request's time (a server whose latency climbs with load). */
  perConcurrentMs?: number;
  /** An answer given at once instead of handling the request (429 with Retry-After, say); undefined: handle it. */
  refuse?: (request: LoadedRequest) => { status: number; headers?: Record<string, string> } | undefined;
}

export interface LoadedRequest {
  /** ms since the receiver started */
  arrivedAt: number;
  answeredAt?: number;
  status?: number;
  body: string;
  /** Requests being handled when this one arrived (itself not counted). */
  busyOnArrival: number;
}

/**
 * A small server as most customers run one, written at the socket level: a
 * fixed number of workers, a short backlog, and a front that answers 503 at
 * once when both are full (as nginx does in front of a full PHP-FPM). Keeps
 * every request with its arrival time and answer.
 */
export class LoadedReceiver {
  readonly requests: LoadedRequest[] = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly born = performance.now();
  private busy = 0;
  private readonly queue: Array<() => void> = [];
  /** The most requests handled at once since the last `resetPeak`. */
  peakBusy = 0;

  constructor(private readonly options: LoadedReceiverOptions) {}

  async start(): Promise<this> {
    this.server = createServer((socket) => this.handle(socket));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}${path}`;
  }

  now(): number {
    return performance.now() - this.born;
  }

  accepted(): LoadedRequest[] {
    return this.requests.filter((r) => r.status === 200);
  }

  /** The most requests that arrived within any one second (a sliding window). */
  mostInAnySecond(): number {
    const arrivals = this.requests.map((r) => r.arrivedAt).sort((a, b) => a - b);
    let most = 0;
    for (let i = 0, j = 0; j < arrivals.length; j += 1) {
      while (arrivals[j]! - arrivals[i]! >= 1000) i += 1;
      most = Math.max(most, j - i + 1);
    }
    return most;
  }

  resetPeak(): void {
    this.peakBusy = this.busy;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private handle(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffered.subarray(0, end).toString('latin1');
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        const body = buffered.subarray(end + 4, end + 4 + length).toString('utf8');
        buffered = buffered.subarray(end + 4 + length);
        this.request(socket, body);
      }
    });
  }

  private request(socket: Socket, body: string): void {
    const request: LoadedRequest = { arrivedAt: this.now(), body, busyOnArrival: this.busy };
    this.requests.push(request);
    const answer = (status: number, headers: Record<string, string> = {}) => {
      request.status = status;
      request.answeredAt = this.now();
      const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
      if (!socket.destroyed) socket.write(`HTTP/1.1 ${status} ${status === 200 ? 'OK' : 'Busy'}\r\n${lines}content-length: 0\r\n\r\n`);
    };
    const refusal = this.options.refuse?.(request);
    if (refusal) return answer(refusal.status, refusal.headers);
    const work = () => {
      this.busy += 1;
      this.peakBusy = Math.max(this.peakBusy, this.busy);
      const ms = this.options.serviceMs + (this.options.perConcurrentMs ?? 0) * (this.busy - 1);
      setTimeout(() => {
        this.busy -= 1;
        answer(200);
        this.queue.shift()?.();
      }, ms);
    };
    if (this.busy < this.options.workers) work();
    else if (this.queue.length < this.options.backlog) this.queue.push(work);
    else answer(503);
  }
}
