import { expect } from 'chai';
import { Housekeeping } from '../src/services/housekeeping.js';
import { TestReceiver } from './helpers/receiver.js';
import { makeAccount, ManualClock, startService, type RunningService, type TestAccount } from './helpers/service.js';

const hour = 3_600_000;
const day = 24 * hour;

/**
 * One retention model, tested by moving the clock: a finished delivery keeps
 * its payload for PAYLOAD_RETENTION_DAYS and its attempts for
 * ATTEMPT_RETENTION_DAYS; buffered deliveries wait BUFFER_RETENTION_DAYS.
 */
describe('retention', () => {
  let service: RunningService;
  let receiver: TestReceiver;
  let account: TestAccount;
  let housekeeping: Housekeeping;
  const clock = new ManualClock('2026-08-01T00:00:00Z');

  before(async () => {
    service = await startService({ ALLOW_PRIVATE_TARGETS: '1', PAYLOAD_RETENTION_DAYS: '10', ATTEMPT_RETENTION_DAYS: '20', BUFFER_RETENTION_DAYS: '30' }, { clock });
    housekeeping = new Housekeeping(service.app.pool, clock, service.config);
    receiver = await new TestReceiver().start();
    account = await makeAccount(service);
  });
  after(async () => {
    await receiver.stop();
    await service.stop();
  });

  async function stateOf(eventId: number) {
    const [[event]] = await service.app.pool.query<any[]>('select payload from events where id = ?', [eventId]);
    const [deliveries] = await service.app.pool.query<any[]>('select status from deliveries where event_id = ?', [eventId]);
    const [[attempts]] = await service.app.pool.query<any[]>(
      'select count(*) as n from attempts a join deliveries d on d.id = a.delivery_id where d.event_id = ?',
      [eventId],
    );
    return { event: event === undefined ? 'gone' : event.payload === null ? 'no payload' : 'payload', deliveries: deliveries.map((d) => d.status), attempts: Number(attempts.n) };
  }

  it('keeps a delivered delivery and its payload, then its attempts, each for its own time, and no cascade takes either early', async () => {
    await service.app.webhooks.create(account.id, { app: 'kept', event: 'optin_finalized', url: receiver.url() });
    const [accepted] = await service.app.intake.accept([{ account: account.username, event: 'optin_finalized', payload: { n: 1 } }]);
    await service.app.createWorker().runOnce();
    const id = accepted!.id;
    const at = async (after: number) => {
      clock.set(new Date(Date.parse('2026-08-01T00:00:00Z') + after));
      await housekeeping.purge();
      return stateOf(id);
    };
    expect(await at(2 * hour), 'the next hours').to.deep.equal({ event: 'payload', deliveries: ['delivered'], attempts: 1 });
    expect(await at(9 * day)).to.deep.equal({ event: 'payload', deliveries: ['delivered'], attempts: 1 });
    expect(await at(11 * day), 'past PAYLOAD_RETENTION_DAYS').to.deep.equal({ event: 'no payload', deliveries: ['delivered'], attempts: 1 });
    expect(await at(19 * day)).to.deep.equal({ event: 'no payload', deliveries: ['delivered'], attempts: 1 });
    expect(await at(21 * day), 'past ATTEMPT_RETENTION_DAYS').to.deep.equal({ event: 'gone', deliveries: [], attempts: 0 });
  });

  it('keeps the payload of a delivery that still waits, whatever its age', async () => {
    clock.set('2026-09-01T00:00:00Z');
    receiver.reply = () => ({ status: 410 });
    await service.app.webhooks.create(account.id, { app: 'buffered', event: 'optout_finalized', url: receiver.url('/buffered') });
    const [accepted] = await service.app.intake.accept([{ account: account.username, event: 'optout_finalized', payload: { n: 2 } }]);
    await service.app.createWorker().runOnce(); // 410 Gone: deactivated, the delivery buffered
    receiver.reply = () => ({ status: 200 });
    clock.set('2026-09-29T00:00:00Z');
    await housekeeping.purge();
    // The attempt log keeps its 20 days whatever became of the delivery.
    expect(await stateOf(accepted!.id)).to.deep.equal({ event: 'payload', deliveries: ['buffered'], attempts: 0 });
    clock.set('2026-10-02T00:00:00Z'); // past BUFFER_RETENTION_DAYS: given up, and from now on counted as finished
    await housekeeping.purge();
    expect(await stateOf(accepted!.id)).to.deep.equal({ event: 'payload', deliveries: ['discarded'], attempts: 0 });
    expect((await service.app.webhooks.list(account.id, { app: 'buffered' }))[0]!.bufferedEvents).to.equal(0);
  });

  it('keeps an event that went to no webhook for PAYLOAD_RETENTION_DAYS', async () => {
    clock.set('2026-11-01T00:00:00Z');
    const [accepted] = await service.app.intake.accept([{ account: account.username, event: 'profilemanager_finalized', payload: { n: 3 } }]);
    clock.set('2026-11-10T00:00:00Z');
    await housekeeping.purge();
    expect((await stateOf(accepted!.id)).event).to.equal('payload');
    clock.set('2026-11-12T00:00:00Z');
    await housekeeping.purge();
    expect((await stateOf(accepted!.id)).event).to.equal('gone');
  });
});
