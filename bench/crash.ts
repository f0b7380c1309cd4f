// A campaign through a database crash: the keyed campaign (100 webhooks, 200
// events of as many subscribers) on a MariaDB server of the benchmark's own;
// once intake has accepted every event, the server is SIGKILLed while the
// deliveries go, and started again a second later. Timed: from the restart
// until every delivery has arrived at least once; counted: what arrived twice
// (at least once allows it; a lost delivery fails the run after 300 s). This tree
// and the previous releases alternate in the same run.
import mysql from 'mysql2/promise';
import { startPrivateMariadb, type PrivateMariadb } from '../test/helpers/mariadbServer.js';
import { postCampaign, totalOf, withCampaignService, workloads, type Workload } from './campaign.js';
import { ArrivalRecorder } from './latencyProbe.js';
import { alternately, thisTree, withReleases, type Release } from './releases.js';
import { spread } from './subjects.js';

const workload: Workload = workloads[0]!;
const downMs = 1000;

interface CrashRun {
  /** From the restarted server accepting connections to the last delivery's first arrival. */
  drainSeconds: number;
  /** Deliveries that had arrived when the server was killed. */
  arrivedBeforeKill: number;
  /** Requests beyond one per delivery. */
  duplicates: number;
}

async function throughCrash(release: Release, server: PrivateMariadb, run: number): Promise<CrashRun> {
  const total = totalOf(workload);
  // One arrival per webhook and event: the path names the webhook, the payload's id the event.
  const receiver = await new ArrivalRecorder(0, () => false, (path, payload) => `${path} ${String(payload.id)}`).start();
  const name = `crash_${run}_${release.label.replace(/\W+/g, '_').slice(0, 40)}`;
  const admin = await mysql.createConnection({ host: '127.0.0.1', port: server.port, user: 'root' });
  await admin.query(`create database \`${name}\``);
  await admin.end();
  try {
    return await withCampaignService(release, { databaseUrl: server.url(name), receiverOrigin: receiver.url(''), workload }, async ({ intake }) => {
      await postCampaign(intake, workload, release);
      const arrivedBeforeKill = receiver.arrivals.size;
      server.kill();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await server.start();
      const restarted = performance.now();
      await receiver.waitFor(total, 300_000);
      if (receiver.arrivals.size < total) throw new Error(`${release.label}: only ${receiver.arrivals.size} of ${total} deliveries arrived within 300 s of the restart`);
      return { drainSeconds: (performance.now() - restarted) / 1000, arrivedBeforeKill, duplicates: receiver.requests - receiver.arrivals.size };
    });
  } finally {
    receiver.close();
  }
}

export async function benchCrash(rounds = Number(process.env.BENCH_CRASH_ROUNDS ?? 1)): Promise<string[]> {
  const server = await startPrivateMariadb();
  const { releases, runs } = await withReleases(async (releases) => ({ releases, runs: await alternately(releases, rounds, (release, round) => throughCrash(release, server, round)) }))
    .finally(() => server.stop());
  const ours = runs.get(thisTree)!.map((run) => run.drainSeconds);
  return releases.map((release) => {
    const drains = runs.get(release)!.map((run) => run.drainSeconds);
    const versusOurs = release === thisTree ? '' : `; this tree drains in ${spread(ours.map((s, i) => s / drains[i]!), (v) => v.toFixed(2))}× its time`;
    const before = spread(runs.get(release)!.map((run) => run.arrivedBeforeKill), (v) => v.toFixed(0));
    const twice = spread(runs.get(release)!.map((run) => run.duplicates), (v) => v.toFixed(0));
    return `| campaign through a database crash (${totalOf(workload)} deliveries; MariaDB SIGKILLed after intake, ${before} arrived; started again after ${downMs / 1000} s); ${release.label} | all arrived ${spread(drains, (v) => v.toFixed(1))} s after the restart, ${twice} twice | | nothing lost${versusOurs} |`;
  });
}
