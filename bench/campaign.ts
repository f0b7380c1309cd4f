// A campaign's peak, the workloads throughput matters for: serve and one
// worker process, events through POST /internal/events (BENCH_CAMPAIGN_BATCH
// events a call, default 10, four calls at once) to a fast local receiver,
// timed from the first intake call to the last receipt, after a warm-up
// (below). Three workloads: 100
// webhooks on one event and 200 events of as many subscribers; the same
// without subscriber keys (one lane per webhook); one webhook and 4,000
// events of 200 subscribers (its lanes in parallel).
// This tree and the previous releases run alternately in the same run, each
// on a fresh database migrated by its own code; beside them a plain undici
// POST loop to the same receiver, and MariaDB's own counters per delivery.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import mysql from 'mysql2/promise';
import { Pool } from 'undici';
import { parseDatabaseUrl } from '../src/storage/database.js';
import { createTestDatabase } from '../test/helpers/database.js';
import { freePort, waitForPort } from '../test/helpers/ports.js';
import { stopChild } from './child.js';
import { alternately, runReleaseCli, startReleaseCli, thisTree, withReleases, type Release } from './releases.js';
import { spread } from './subjects.js';

/** `subscribers`: how many subscriber keys the events cycle through (0: none, one lane per webhook). */
export interface Workload {
  webhooks: number;
  events: number;
  subscribers: number;
}

export const workloads: Workload[] = [
  { webhooks: 100, events: 200, subscribers: 200 },
  { webhooks: 100, events: 200, subscribers: 0 },
  { webhooks: 1, events: 4000, subscribers: 200 },
];
export const totalOf = (w: Workload) => w.webhooks * w.events;

export const describeWorkload = (w: Workload) =>
  `${w.webhooks === 1 ? 'one webhook' : `${w.webhooks} webhooks on one event`}, ${w.events} events ${w.subscribers === 0 ? 'without a subscriber key' : w.subscribers >= w.events ? 'of as many subscribers' : `of ${w.subscribers} subscribers`} in calls of ${batch} (${totalOf(w)} deliveries)`;
const intakeConcurrency = 4;
const batch = Number(process.env.BENCH_CAMPAIGN_BATCH ?? 10);
const token = 'campaign-token';

/** Counts what arrives; `until(n)` resolves when n requests have. */
class CountingReceiver {
  private server: Server | undefined;
  private count = 0;
  private waiting: { n: number; resolve: () => void } | undefined;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(204).end();
        this.count += 1;
        if (this.waiting && this.count >= this.waiting.n) this.waiting.resolve();
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  reset(): void {
    this.count = 0;
  }

  until(n: number, timeoutMs: number): Promise<void> {
    if (this.count >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${this.count} of ${n} deliveries arrived`)), timeoutMs);
      this.waiting = { n, resolve: () => { clearTimeout(timer); resolve(); } };
    });
  }

  close(): void {
    this.server?.closeAllConnections();
    this.server?.close();
  }
}

const counters = ['Questions', 'Com_commit', 'Handler_read_key', 'Handler_read_next', 'Handler_update', 'Innodb_row_lock_waits', 'Innodb_row_lock_time'] as const;
type Counters = Record<(typeof counters)[number], number>;

/** CPU time a process has used so far, in ms (Linux); undefined when it cannot be read. */
export function cpuMsOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // Fields 14 and 15 (utime, stime) after the command name, in clock ticks of 10 ms.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

export function databasePid(): number | undefined {
  try {
    return Number(execFileSync('pidof', ['-s', 'mariadbd'], { encoding: 'utf8' }).trim()) || undefined;
  } catch {
    return undefined;
  }
}

/** CPU ms of the database, serve and worker, for the CPU each spent per 1,000 deliveries. */
const processCpu = (pids: Array<number | undefined>) => pids.map(cpuMsOf);

async function readCounters(connection: mysql.Connection): Promise<Counters> {
  const [rows] = await connection.query<mysql.RowDataPacket[]>('show global status where Variable_name in (?)', [counters]);
  return Object.fromEntries(rows.map((row) => [row.Variable_name, Number(row.Value)])) as Counters;
}

interface Run {
  rate: number;
  intakeSeconds: number;
  seconds: number;
  perDelivery: Counters;
  /** CPU ms per 1,000 deliveries: the database, serve, the worker. */
  cpuPerThousand: Array<number | undefined>;
}

/** The same rows for every release: columns the first release had. */
async function seedCampaign(connection: mysql.Connection, receiverOrigin: string, { webhooks }: Workload): Promise<void> {
  await connection.query("insert into accounts (username, password_hash, email, language, created_at) values ('shop', 'unused', 'shop@example.com', 'en', now())");
  await connection.query(
    `insert into webhooks (account_id, app, event, url, secret, created_at)
     select a.id, concat('hook', n.n), 'optin_finalized', concat(?, '/hook/', n.n), 'whsec_YmVuY2gtc2VjcmV0', now()
     from accounts a join (select seq as n from seq_1_to_${webhooks}) n`,
    [receiverOrigin],
  );
}

/** A connection to the database a URL names. */
const connectTo = (databaseUrl: string) => {
  const { connection, database } = parseDatabaseUrl(databaseUrl);
  return mysql.createConnection({ ...connection, database });
};

/**
 * A release's service for a campaign: the database migrated by the release's
 * own code and seeded, its `processes` started (serve with a worker unless
 * told otherwise), the intake pool open; `work` runs once the worker polls.
 */
export async function withCampaignService<T>(
  release: Release,
  setting: { databaseUrl: string; receiverOrigin: string; workload: Workload; processes?: string[]; env?: Record<string, string> },
  work: (service: { intake: Pool; pids: Array<number | undefined> }) => Promise<T>,
): Promise<T> {
  const port = await freePort();
  const env = { DATABASE_URL: setting.databaseUrl, ALLOW_PRIVATE_TARGETS: '1', INTERNAL_TOKEN: token, PORT: String(port), ...setting.env };
  await runReleaseCli(release, ['migrate'], env);
  const connection = await connectTo(setting.databaseUrl);
  try {
    await seedCampaign(connection, setting.receiverOrigin, setting.workload);
  } finally {
    await connection.end();
  }
  const children = (setting.processes ?? ['serve', 'worker']).map((process) => startReleaseCli(release, [process], env));
  const intake = new Pool(`http://127.0.0.1:${port}`, { connections: intakeConcurrency });
  try {
    await waitForPort(port);
    await new Promise((resolve) => setTimeout(resolve, 1000)); // the worker up and polling
    return await work({ intake, pids: children.map((child) => child.pid) });
  } finally {
    await intake.close();
    await Promise.all(children.map(stopChild));
  }
}

/**
 * The workload's events through POST /internal/events, `batch` a call,
 * `intakeConcurrency` calls at once; each payload's `id` is its n, counted
 * from `firstEvent`.
 */
export async function postCampaign(intake: Pool, { events, subscribers }: Workload, release: Release, firstEvent = 0): Promise<void> {
  const end = firstEvent + events;
  let next = firstEvent;
  await Promise.all(Array.from({ length: intakeConcurrency }, async () => {
    while (next < end) {
      const first = next;
      next = Math.min(end, next + batch);
      const calls = Array.from({ length: next - first }, (_, i) => {
        const n = first + i;
        const payload = subscribers > 0 ? { id: n, subscriber_id: 7_000_000 + (n % subscribers), fields: [{ id: 1, value: `s${n}@example.com` }] } : { id: n, fields: [{ id: 1, value: `s${n}@example.com` }] };
        return { account: 'shop', event: 'optin_finalized', payload };
      });
      const response = await intake.request({
        method: 'POST', path: '/internal/events',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(calls),
      });
      await response.body.dump();
      if (response.statusCode !== 202) throw new Error(`${release.label}: intake answered ${response.statusCode}`);
    }
  }));
}

const cold = process.env.BENCH_CAMPAIGN_COLD === '1';
// The warm-up's events are numbered from here, far past any workload's own.
const warmUpFirstEvent = 1_000_000;

/**
 * A tenth of the workload, under other event ids, received in full before the
 * clock starts, as the plain loop's first 2,000 requests are for it: a
 * service's processes run for days, and what a fresh process spends once
 * (compiling its hot code, opening its connections) is not a campaign's cost.
 * BENCH_CAMPAIGN_COLD=1 leaves it out, for the first campaign of fresh processes.
 */
async function warmUp(intake: Pool, receiver: CountingReceiver, workload: Workload, release: Release): Promise<void> {
  if (cold) return;
  const tenth = { ...workload, events: Math.ceil(workload.events / 10) };
  receiver.reset();
  await postCampaign(intake, tenth, release, warmUpFirstEvent);
  await receiver.until(totalOf(tenth), 60_000);
  // The warm-up's last rounds record and release their leases before the counters are read.
  await new Promise((resolve) => setTimeout(resolve, 200));
}

async function campaign(release: Release, receiver: CountingReceiver, receiverOrigin: string, workload: Workload): Promise<Run> {
  const total = totalOf(workload);
  const database = await createTestDatabase({ migrated: false });
  try {
    return await withCampaignService(release, { databaseUrl: database.url, receiverOrigin, workload }, async ({ intake, pids: children }) => {
      await warmUp(intake, receiver, workload, release);
      receiver.reset();
      const counted = await connectTo(database.url);
      try {
        const pids = [databasePid(), ...children];
        const before = await readCounters(counted);
        const cpuBefore = processCpu(pids);
        const started = performance.now();
        await postCampaign(intake, workload, release);
        const intakeSeconds = (performance.now() - started) / 1000;
        await receiver.until(total, 300_000);
        const seconds = (performance.now() - started) / 1000;
        const after = await readCounters(counted);
        const cpuPerThousand = processCpu(pids).map((ms, i) => (ms === undefined || cpuBefore[i] === undefined ? undefined : ((ms - cpuBefore[i]!) * 1000) / total));
        const perDelivery = Object.fromEntries(counters.map((name) => [name, (after[name] - before[name]) / total])) as Counters;
        return { rate: total / seconds, intakeSeconds, seconds, perDelivery, cpuPerThousand };
      } finally {
        await counted.end();
      }
    });
  } finally {
    await database.drop();
  }
}

/** The floor: the same number of POSTs to the same receiver, nothing else, at the worker's default concurrency. */
async function plainLoop(origin: string, receiver: CountingReceiver, total: number): Promise<number> {
  const concurrency = 100;
  const pool = new Pool(origin, { connections: concurrency });
  const body = JSON.stringify({ id: 1, subscriber_id: 7_000_001, fields: [{ id: 1, value: 's1@example.com' }] });
  const loop = async (count: number) => {
    let sent = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (sent < count) {
        sent += 1;
        const response = await pool.request({ method: 'POST', path: '/hook/1', body, headers: { 'content-type': 'application/json' } });
        await response.body.dump();
      }
    }));
  };
  await loop(2000);
  receiver.reset();
  const started = performance.now();
  await loop(total);
  const rate = total / ((performance.now() - started) / 1000);
  await pool.close();
  return rate;
}

const range = (values: number[], digits = 0) => spread(values, (value) => value.toFixed(digits));

export async function benchCampaign(rounds = Number(process.env.BENCH_CAMPAIGN_ROUNDS ?? 2)): Promise<string[]> {
  const receiver = new CountingReceiver();
  const origin = await receiver.start();
  const rows: string[] = [];
  try {
    await withReleases(async (releases) => {
      // BENCH_CAMPAIGN_WORKLOAD=n (0, 1, 2) runs one workload alone, for more rounds of it in the same time.
      const only = process.env.BENCH_CAMPAIGN_WORKLOAD;
      for (const workload of only === undefined ? workloads : [workloads[Number(only)]!]) {
        const floor: number[] = [];
        const runs = await alternately(releases, rounds, (release) => campaign(release, receiver, origin, workload), async () => {
          floor.push(await plainLoop(origin, receiver, totalOf(workload)));
        });
        const label = `${describeWorkload(workload)}, serve + 1 worker process${cold ? ' from their start' : ' after a tenth of it as warm-up'}`;
        const ours = runs.get(thisTree)!.map((run) => run.rate);
        for (const release of releases) {
          const rates = runs.get(release)!.map((run) => run.rate);
          const shares = rates.map((rate, i) => rate / floor[i]!);
          const versusOurs = release === thisTree ? '' : `; this tree ${range(ours.map((rate, i) => rate / rates[i]!), 2)}×`;
          rows.push(`| campaign: ${label}; ${release.label} | ${range(rates)}/s | plain undici POST loop ${range(floor)}/s | ${range(shares, 2)} of the loop${versusOurs} |`);
        }
        for (const release of releases) {
          const last = runs.get(release)!.at(-1)!.perDelivery;
          const timing = runs.get(release)!.map((run) => `${run.intakeSeconds.toFixed(1)} s of ${run.seconds.toFixed(1)} s`).join(', ');
          rows.push(`| the same, intake of the ${workload.events} events took; ${release.label} | ${timing} | | |`);
          const figures = counters.map((name) => `${name} ${last[name].toFixed(name === 'Innodb_row_lock_time' ? 3 : 2)}`).join(', ');
          rows.push(`| the same, MariaDB counters per delivery (last run); ${release.label} | ${figures} | | |`);
          const cpu = ['database', 'serve', 'worker'].map((name, i) => `${name} ${range(runs.get(release)!.map((run) => run.cpuPerThousand[i] ?? Number.NaN))} ms`).join(', ');
          rows.push(`| the same, CPU per 1,000 deliveries; ${release.label} | ${cpu} | | |`);
        }
      }
    });
  } finally {
    receiver.close();
  }
  return rows;
}
