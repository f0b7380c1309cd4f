// What intake alone costs per delivery it writes: the campaign workloads'
// events (100 webhooks, 200 events, with and without subscriber keys) through
// POST /internal/events to `serve` without direct delivery and with no worker,
// so that nothing is sent; CPU of serve and of MariaDB per delivery written.
// A quieter figure than the campaign's rates: nothing else runs. This tree and
// the previous releases alternate in the same run.
import { createTestDatabase } from '../test/helpers/database.js';
import { cpuMsOf, databasePid, describeWorkload, postCampaign, totalOf, withCampaignService, workloads, type Workload } from './campaign.js';
import { alternately, thisTree, withReleases, type Release } from './releases.js';
import { spread } from './subjects.js';

/** µs of CPU per delivery written: serve, the database. */
async function intakeCost(release: Release, workload: Workload): Promise<[number, number]> {
  const database = await createTestDatabase({ migrated: false });
  // Nothing listens at the receiver's origin: nothing is sent anyway.
  const setting = { databaseUrl: database.url, receiverOrigin: 'http://127.0.0.1:9', workload, processes: ['serve'], env: { DIRECT_DELIVERY: '0' } };
  try {
    return await withCampaignService(release, setting, async ({ intake, pids: [serve] }) => {
      const pids = [serve, databasePid()];
      const before = pids.map(cpuMsOf);
      await postCampaign(intake, workload, release);
      const after = pids.map(cpuMsOf);
      const perDelivery = (i: number) => ((after[i]! - before[i]!) * 1000) / totalOf(workload);
      return [perDelivery(0), perDelivery(1)];
    });
  } finally {
    await database.drop();
  }
}

export async function benchIntake(rounds = Number(process.env.BENCH_INTAKE_ROUNDS ?? 3)): Promise<string[]> {
  const rows: string[] = [];
  await withReleases(async (releases) => {
    for (const workload of workloads.filter((w) => w.webhooks > 1)) {
      const runs = await alternately(releases, rounds, (release) => intakeCost(release, workload));
      const ours = runs.get(thisTree)!;
      for (const release of releases) {
        const own = runs.get(release)!;
        const range = (i: 0 | 1) => spread(own.map((run) => run[i]), (value) => value.toFixed(1));
        const total = (run: [number, number]) => run[0] + run[1];
        const versusOurs = release === thisTree ? '' : `this tree ${spread(ours.map((run, i) => total(run) / total(own[i]!)), (value) => value.toFixed(2))}× its CPU`;
        rows.push(`| intake alone: ${describeWorkload(workload)}, serve without direct delivery, no worker; ${release.label} | serve ${range(0)} µs, database ${range(1)} µs of CPU per delivery written | | ${versusOurs} |`);
      }
    }
  });
  return rows;
}
