import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';

/**
 * A DNS server on loopback UDP that answers every A query with one address
 * (and AAAA with none), for resolver tests: enough of RFC 1035 for c-ares.
 */
export class DnsServer {
  queries = 0;
  private socket: Socket | undefined;

  constructor(private readonly address: string) {}

  async start(): Promise<string> {
    this.socket = createSocket('udp4');
    this.socket.on('message', (query, from) => {
      this.queries += 1;
      const answer = this.answer(query);
      if (answer) this.socket!.send(answer, from.port, from.address);
    });
    await new Promise<void>((resolve) => this.socket!.bind(0, '127.0.0.1', resolve));
    return `127.0.0.1:${(this.socket.address() as AddressInfo).port}`;
  }

  private answer(query: Buffer): Buffer | undefined {
    if (query.length < 12) return undefined;
    let end = 12;
    while (end < query.length && query[end] !== 0) end += query[end]! + 1;
    const question = query.subarray(12, end + 5); // name, type, class
    const type = query.readUInt16BE(end + 1);
    const header = Buffer.from(query.subarray(0, 12));
    header.writeUInt16BE(0x8180, 2); // a response, recursion available, no error
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(type === 1 ? 1 : 0, 6);
    header.writeUInt32BE(0, 8);
    if (type !== 1) return Buffer.concat([header, question]);
    const record = Buffer.alloc(16);
    record.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    record.writeUInt16BE(1, 2);
    record.writeUInt16BE(1, 4);
    record.writeUInt32BE(60, 6);
    record.writeUInt16BE(4, 10);
    this.address.split('.').forEach((octet, i) => record.writeUInt8(Number(octet), 12 + i));
    return Buffer.concat([header, question, record]);
  }

  stop(): void {
    this.socket?.close();
  }
}
