import { expect } from 'chai';
import { parseDatabaseUrl } from '../../src/storage/database.js';

describe('DATABASE_URL', () => {
  it('names server, user, password and database, with a Unix socket when ?socket= is given', () => {
    const tcp = parseDatabaseUrl('mysql://app:s%40cret@db.internal:3307/webhooks');
    expect(tcp.database).to.equal('webhooks');
    expect(tcp.connection).to.include({ host: 'db.internal', port: 3307, user: 'app', password: 's@cret', timezone: 'Z' });
    expect(tcp.connection.socketPath).to.equal(undefined);
    const socket = parseDatabaseUrl('mysql://root@localhost/webhooks?socket=%2Frun%2Fmysqld%2Fmysqld.sock');
    expect(socket.connection.socketPath).to.equal('/run/mysqld/mysqld.sock');
    expect(socket.database).to.equal('webhooks');
  });
});
