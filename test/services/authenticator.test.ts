import { expect } from 'chai';
import { Authenticator } from '../../src/services/authenticator.js';
import { verifyPassword } from '../../src/domain/passwords.js';
import { createAccount } from '../../src/services/accounts.js';
import { jsonClient } from '../helpers/clients.js';
import { makeAccount, ManualClock, startService, type RunningService } from '../helpers/service.js';

describe('logins', () => {
  let service: RunningService;
  const clock = new ManualClock();

  before(async () => {
    service = await startService({ LOGIN_FAILURE_LIMIT: '3', LOGIN_FAILURE_WINDOW_SECONDS: '300' }, { clock });
  });
  after(() => service.stop());

  /** A JSON call as if from `address` (the service trusts the loopback proxy's X-Forwarded-For). */
  async function callFrom(address: string, username: string, password: string): Promise<number> {
    const response = await fetch(`${service.baseUrl}/json/getwebhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
      body: JSON.stringify({ username, password }),
    });
    return ((await response.json()) as { error: number }).error;
  }

  it('throttles an account after repeated failures from one address with error 6, and lets it in again after the window', async () => {
    const account = await makeAccount(service);
    const client = jsonClient(service.baseUrl);
    for (let i = 0; i < 3; i += 1) {
      expect((await client.call('GetWebHooks', { username: account.username, password: 'wrong-password' })).error).to.equal(1);
    }
    const throttled = await client.call('GetWebHooks', { username: account.username, password: account.password });
    expect(throttled).to.deep.equal({ error: 6, message: 'too many failed logins: try again in 5 minutes at the latest' });
    clock.advance(301_000);
    expect((await client.call('GetWebHooks', { username: account.username, password: account.password })).error).to.equal(0);
  });

  it('compares usernames exactly: a trailing space names no account and gets no guesses of its own', async () => {
    const account = await makeAccount(service);
    expect(await callFrom('198.51.100.1', `${account.username} `, account.password)).to.equal(1);
    for (let i = 0; i < 3; i += 1) expect(await callFrom('198.51.100.2', account.username, 'wrong')).to.equal(1);
    // Another spelling from the same address is the same account's locked door, not a new one.
    expect(await callFrom('198.51.100.2', `${account.username} `, account.password)).to.equal(1);
    expect(await callFrom('198.51.100.2', account.username, account.password)).to.equal(6);
    expect(await createAccount(service.app.pool, clock, { username: 'padded ', password: 'a-long-password', email: 'p@example.com', language: 'en' }).catch((e: Error) => e.message))
      .to.equal("parameter 'username' must not be empty or begin or end with white space");
  });

  it('checks no more passwords than the limit in a burst of parallel guesses', async () => {
    const account = await makeAccount(service);
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => callFrom('198.51.100.3', account.username, `guess-${i}`)));
    expect(answers.filter((error) => error === 1)).to.have.length(3);
    expect(answers.filter((error) => error === 6)).to.have.length(97);
  });

  it('never locks the owner out from one attacking address, and locks the account only past ten times the limit from many', async () => {
    const account = await makeAccount(service);
    for (let i = 0; i < 30; i += 1) await callFrom('203.0.113.7', account.username, `guess-${i}`);
    expect(await callFrom('203.0.113.7', account.username, account.password), 'the attacking address').to.equal(6);
    expect(await callFrom('192.0.2.10', account.username, account.password), 'the owner elsewhere').to.equal(0);
    // Failures spread over many addresses count against the account as a whole: 30 in all, 3 of them from the first address.
    const spread = [];
    for (let i = 0; i < 30; i += 1) spread.push(await callFrom(`203.0.113.${100 + i}`, account.username, 'wrong'));
    expect(spread.filter((error) => error === 1)).to.have.length(27);
    clock.advance(61_000); // the owner's remembered pair has expired; the failures have not
    expect(await callFrom('192.0.2.10', account.username, account.password)).to.equal(6);
    clock.advance(301_000);
  });

  it('stores passwords only as salted scrypt hashes', async () => {
    const account = await makeAccount(service, { password: 'the-same-password' });
    const twin = await makeAccount(service, { password: 'the-same-password' });
    const [rows] = await service.app.pool.query<any[]>('select password_hash from accounts where id in (?, ?)', [account.id, twin.id]);
    expect(rows[0].password_hash).to.match(/^scrypt\$\d+\$\d+\$\d+\$/);
    expect(rows[0].password_hash).not.to.contain('the-same-password');
    expect(rows[0].password_hash).not.to.equal(rows[1].password_hash);
  });

  it('remembers verified credentials for a while instead of hashing on every call', async () => {
    const account = await makeAccount(service);
    const client = jsonClient(service.baseUrl);
    expect((await client.call('GetWebHooks', { username: account.username, password: account.password })).error).to.equal(0);
    // With the stored hash made unusable, only a remembered verification can still let the caller in.
    await service.app.pool.query("update accounts set password_hash = 'scrypt$16384$8$1$AAAA$AAAA' where id = ?", [account.id]);
    expect((await client.call('GetWebHooks', { username: account.username, password: account.password })).error).to.equal(0);
    expect((await client.call('GetWebHooks', { username: account.username, password: `${account.password}x` })).error).to.equal(1);
    clock.advance(61_000);
    expect((await client.call('GetWebHooks', { username: account.username, password: account.password })).error).to.equal(1);
  });

  describe('the remembered credentials', () => {
    let checks = 0;
    let authenticator: Authenticator;
    const options = { loginFailureLimit: 3, loginFailureWindowSeconds: 300, credentialCacheSeconds: 60 };

    beforeEach(() => {
      checks = 0;
      authenticator = new Authenticator(service.app.pool, clock, options, (password, hash) => {
        checks += 1;
        return verifyPassword(password, hash);
      });
    });

    it('verify a pair once however many callers arrive while it is being verified', async () => {
      const account = await makeAccount(service);
      const accounts = await Promise.all(Array.from({ length: 50 }, () => authenticator.authenticate(account.username, account.password, '192.0.2.1')));
      expect(accounts.every((a) => a.id === account.id)).to.equal(true);
      expect(checks).to.equal(1);
    });

    it('are verified again in the background before they expire, so no caller waits at the expiry', async () => {
      const account = await makeAccount(service);
      await authenticator.authenticate(account.username, account.password, '192.0.2.1');
      clock.advance(46_000); // past three quarters of the 60 s
      const callers = Array.from({ length: 20 }, () => authenticator.authenticate(account.username, account.password, '192.0.2.1'));
      expect((await Promise.all(callers)).every((a) => a.id === account.id)).to.equal(true);
      await new Promise((resolve) => setTimeout(resolve, 300)); // the one background verification
      expect(checks).to.equal(2);
      clock.advance(30_000); // the first pair's expiry has passed; the refreshed one holds
      await authenticator.authenticate(account.username, account.password, '192.0.2.1');
      expect(checks).to.equal(2);
    });

    it('forget a pair whose password has changed as soon as they read the account again (at most a second later)', async () => {
      const account = await makeAccount(service);
      await authenticator.authenticate(account.username, account.password, '192.0.2.1');
      await service.app.pool.query("update accounts set password_hash = 'scrypt$16384$8$1$AAAA$AAAA' where id = ?", [account.id]);
      clock.advance(500);
      await authenticator.authenticate(account.username, account.password, '192.0.2.1'); // still what it read half a second ago
      clock.advance(600);
      const refused = await authenticator.authenticate(account.username, account.password, '192.0.2.1').catch((error: Error) => error.message);
      expect(refused).to.equal('authentication failed');
    });
  });
});
