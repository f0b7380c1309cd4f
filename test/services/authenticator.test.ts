import { expect } from 'chai';
import { jsonClient } from '../helpers/clients.js';
import { makeAccount, ManualClock, startService, type RunningService } from '../helpers/service.js';

describe('logins', () => {
  let service: RunningService;
  const clock = new ManualClock();

  before(async () => {
    service = await startService({ LOGIN_FAILURE_LIMIT: '3', LOGIN_FAILURE_WINDOW_SECONDS: '300' }, { clock });
  });
  after(() => service.stop());

  it('throttles a username after repeated failures with error 6, and lets it in again after the window', async () => {
    const account = await makeAccount(service);
    const client = jsonClient(service.baseUrl);
    for (let i = 0; i < 3; i += 1) {
      expect((await client.call('GetWebHooks', { username: account.username, password: 'wrong-password' })).error).to.equal(1);
    }
    const throttled = await client.call('GetWebHooks', { username: account.username, password: account.password });
    expect(throttled).to.deep.equal({ error: 6, message: 'too many failed logins, try again later' });
    clock.advance(301_000);
    expect((await client.call('GetWebHooks', { username: account.username, password: account.password })).error).to.equal(0);
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
});
