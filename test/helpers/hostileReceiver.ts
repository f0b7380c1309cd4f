import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * Webhook receivers that misbehave on purpose, written at the socket level so
 * that nothing in an HTTP library tidies them up:
 *  - trickle:      200 with a long body sent one byte per 100 ms
 *  - flood102:     `102 Processing` every 100 ms, never a final answer
 *  - blackHole:    reads the request, never answers
 *  - slowHeaders:  the status line and headers, one byte per 100 ms
 *  - hugeError:    500 with a body of 50 MB, as fast as the socket takes it
 *  - hugeSuccess:  200 with a body of 50 MB
 *  - slowAnswer:   a plain 204, after 1.5 s
 * A receiver made with `byPath` takes the kind from the request's first path
 * segment (`/flood102/…`), so that one server plays them all.
 */
export type Misbehaviour = 'trickle' | 'flood102' | 'blackHole' | 'slowHeaders' | 'hugeError' | 'hugeSuccess' | 'slowAnswer';
export const misbehaviours: Misbehaviour[] = ['trickle', 'flood102', 'blackHole', 'slowHeaders', 'hugeError', 'hugeSuccess', 'slowAnswer'];

export class HostileReceiver {
  /** When each connection opened and closed (ms since the receiver started), for deadline checks. */
  readonly connections: Array<{ openedAt: number; closedAt?: number; requests: number }> = [];
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly born = performance.now();

  constructor(private readonly kind: Misbehaviour | 'byPath') {}

  async start(): Promise<this> {
    this.server = createServer((socket) => this.handle(socket));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  url(path = '/hook'): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}${path}`;
  }

  /** Connections still open now. */
  open(): number {
    return this.connections.filter((c) => c.closedAt === undefined).length;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private handle(socket: Socket): void {
    this.sockets.add(socket);
    const record: { openedAt: number; closedAt?: number; requests: number } = { openedAt: performance.now() - this.born, requests: 0 };
    this.connections.push(record);
    const timers: NodeJS.Timeout[] = [];
    socket.on('close', () => {
      record.closedAt = performance.now() - this.born;
      timers.forEach(clearInterval);
      this.sockets.delete(socket);
    });
    socket.on('error', () => undefined);
    let seen = '';
    socket.on('data', (chunk) => {
      seen += chunk.toString('latin1');
      if (record.requests > 0 || !seen.includes('\r\n\r\n')) return;
      record.requests += 1;
      const fromPath = /^POST \/(\w+)/.exec(seen)?.[1] as Misbehaviour | undefined;
      this.answer(this.kind === 'byPath' ? (fromPath ?? 'blackHole') : this.kind, socket, timers);
    });
  }

  private answer(kind: Misbehaviour, socket: Socket, timers: NodeJS.Timeout[]): void {
    const drip = (text: string, everyMs: number) => {
      let i = 0;
      timers.push(setInterval(() => {
        if (i < text.length && !socket.destroyed) socket.write(text[i++]!);
      }, everyMs));
    };
    switch (kind) {
      case 'trickle':
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n');
        drip('x'.repeat(100_000), 100);
        return;
      case 'flood102':
        timers.push(setInterval(() => socket.write('HTTP/1.1 102 Processing\r\n\r\n'), 100));
        return;
      case 'blackHole':
        return;
      case 'slowHeaders':
        drip(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Padding: ${'p'.repeat(1000)}\r\nContent-Length: 0\r\n\r\n`, 100);
        return;
      case 'hugeError':
      case 'hugeSuccess': {
        const status = kind === 'hugeError' ? '500 Internal Server Error' : '200 OK';
        const size = 50 * 1024 * 1024;
        socket.write(`HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nContent-Length: ${size}\r\n\r\n`);
        const block = Buffer.alloc(64 * 1024, 'e');
        let sent = 0;
        const pump = () => {
          while (sent < size && !socket.destroyed) {
            sent += block.length;
            if (!socket.write(block)) return void socket.once('drain', pump);
          }
        };
        pump();
        return;
      }
      case 'slowAnswer':
        timers.push(setTimeout(() => socket.write('HTTP/1.1 204 No Content\r\n\r\n'), 1500));
        return;
    }
  }
}
