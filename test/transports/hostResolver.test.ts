import { expect } from 'chai';
import { scrypt } from 'node:crypto';
import { promisify } from 'node:util';
import { createHostResolver } from '../../src/transports/outbound/hostResolver.js';
import { DnsServer } from '../helpers/dnsServer.js';

describe('resolving webhook hosts', () => {
  let dns: DnsServer;
  let server: string;
  before(async () => {
    dns = new DnsServer('93.184.215.14');
    server = await dns.start();
  });
  after(() => dns.stop());

  it('asks DNS itself and answers localhost and IP literals without asking', async () => {
    const resolve = createHostResolver(2000, [server]);
    expect(await resolve('hooks.example.com')).to.deep.equal(['93.184.215.14']);
    const asked = dns.queries;
    expect(await resolve('localhost')).to.deep.equal(['127.0.0.1', '::1']);
    expect(await resolve('10.1.2.3')).to.deep.equal(['10.1.2.3']);
    expect(dns.queries).to.equal(asked);
  });

  it('does not wait for the threads that hash passwords', async () => {
    // Four slow hashes take every thread of libuv's pool, as a burst of logins does.
    const hash = promisify(scrypt) as (password: string, salt: string, length: number, options: object) => Promise<Buffer>;
    let hashing = true;
    const hashes = Promise.all(Array.from({ length: 4 }, () => hash('password', 'salt', 32, { N: 2 ** 17, r: 8, p: 1, maxmem: 512 * 1024 * 1024 })))
      .finally(() => (hashing = false));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const addresses = await createHostResolver(2000, [server])('busy.example.com');
    expect(addresses).to.deep.equal(['93.184.215.14']);
    expect(hashing, 'DNS answered while the pool was still busy hashing').to.equal(true);
    await hashes;
  });

  it('gives up on a DNS server that never answers, within its time limit', async () => {
    const started = performance.now();
    const error = await createHostResolver(300, ['127.0.0.1:9'])('silent.example.com').catch((e: Error) => e);
    expect(error).to.be.instanceOf(Error);
    expect(performance.now() - started).to.be.below(1500);
  });
});
