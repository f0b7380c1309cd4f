import { Resolver } from 'node:dns';
import { isIP } from 'node:net';
import type { ResolveHost } from '../../services/ports.js';

export class DnsTimeoutError extends Error {
  readonly code = 'ETIMEOUT';
}

const noAnswer = new Set(['ENODATA', 'ENOTFOUND', 'ENONAME', 'ESERVFAIL', 'EREFUSED', 'EBADNAME', 'EBADRESP', 'EFORMERR', 'ENOTIMP']);

/**
 * Resolves with c-ares (A and AAAA queries over the network), never with the
 * system's getaddrinfo: that one runs on libuv's four worker threads, the same
 * threads that hash passwords, so a customer's slow DNS would delay every
 * login. Each lookup has its own channel so that a hard time limit can cancel
 * exactly its queries. `localhost` and its subdomains are loopback (RFC 6761);
 * /etc/hosts is not read.
 */
export function createHostResolver(timeoutMs: number, servers?: string[]): ResolveHost {
  return (host) => {
    if (isIP(host) !== 0) return Promise.resolve([host]);
    const name = host.toLowerCase().replace(/\.$/, '');
    if (name === 'localhost' || name.endsWith('.localhost')) return Promise.resolve(['127.0.0.1', '::1']);
    const resolver = new Resolver({ timeout: Math.max(100, Math.floor(timeoutMs / 2)), tries: 2 });
    if (servers) resolver.setServers(servers);
    return new Promise((resolve, reject) => {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        resolver.cancel();
      }, timeoutMs);
      const query = (family: 4 | 6) =>
        new Promise<string[]>((done, fail) => {
          const callback = (error: NodeJS.ErrnoException | null, addresses: string[]) => {
            if (!error) return done(addresses);
            if (noAnswer.has(error.code ?? '')) return done([]);
            fail(error);
          };
          if (family === 4) resolver.resolve4(name, callback);
          else resolver.resolve6(name, callback);
        });
      Promise.allSettled([query(4), query(6)]).then((results) => {
        clearTimeout(timer);
        const answered = results.filter((r): r is PromiseFulfilledResult<string[]> => r.status === 'fulfilled');
        if (answered.length > 0) return resolve(answered.flatMap((r) => r.value));
        const reasons = results.map((r) => (r as PromiseRejectedResult).reason as NodeJS.ErrnoException);
        const slow = timedOut || reasons.some((reason) => reason.code === 'ETIMEOUT' || reason.code === 'ECANCELLED');
        reject(slow ? new DnsTimeoutError(`DNS did not answer within ${timeoutMs} ms`) : reasons[0]);
      });
    });
  };
}
