import { expect } from 'chai';
import { createPool, inTransaction, parseDatabaseUrl, run } from '../../src/storage/database.js';
import { createTestDatabase } from '../helpers/database.js';

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

  it('lists several nodes of a cluster, in their order', () => {
    const cluster = parseDatabaseUrl('mysql://app:pw@h1:3306,h2,[::1]:3308/webhooks');
    expect(cluster.nodes).to.deep.equal([{ host: 'h1', port: 3306 }, { host: 'h2', port: 3306 }, { host: '::1', port: 3308 }]);
    expect(cluster.database).to.equal('webhooks');
    expect(cluster.connection).to.include({ user: 'app', password: 'pw' });
    expect(parseDatabaseUrl('mysql://root@127.0.0.1:3306/webhooks').nodes).to.deep.equal([{ host: '127.0.0.1', port: 3306 }]);
  });

  it('serves every way of querying through a list of nodes, on a server without wsrep too', async () => {
    const database = await createTestDatabase();
    const [node] = parseDatabaseUrl(database.url).nodes;
    const pool = createPool(database.url.replace(`${node!.host}:${node!.port}`, `${node!.host}:${node!.port},${node!.host}:${node!.port}`));
    try {
      const [rows] = await pool.query<any[]>('select 1 as one');
      expect(rows[0].one).to.equal(1);
      expect((await run<any[]>(pool, 'select 2 as two', []))[0].two).to.equal(2);
      const inside = await inTransaction(pool, async (tx) => (await run<any[]>(tx, 'select 3 as three', []))[0].three + (await tx.query<any[]>('select 4 as four'))[0][0].four);
      expect(inside).to.equal(7);
    } finally {
      await pool.end();
      await database.drop();
    }
  });
});
