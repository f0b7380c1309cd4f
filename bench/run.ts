// npm run bench: every benchmark, each measured against a baseline in the same
// run (these machines are noisy), printed as the table docs/benchmarks.md keeps.
import { benchSoap } from './soap.js';
import { benchTail } from './tail.js';
import { benchHostile } from './hostile.js';
import { benchDelivery } from './delivery.js';
import { benchCampaign } from './campaign.js';
import { benchIntake } from './intake.js';
import { benchFlaky } from './flaky.js';
import { benchRecover } from './recover.js';
import { benchCrash } from './crash.js';
import { benchGalera } from './galera.js';
import { benchLanes } from './lanes.js';
import { benchLatency } from './latency.js';
import { benchNeighbours } from './neighbours.js';
import { benchPace } from './pace.js';
import { benchRowWrites } from './rowWrites.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const only = process.argv[2];

const rows: string[] = ['| what | measured | baseline in the same run | ratio |', '| --- | --- | --- | --- |'];
if (!only || only === 'soap') rows.push(...(await benchSoap(seconds)));
if (!only || only === 'tail') rows.push(...(await benchTail()));
if (!only || only === 'hostile') rows.push(...(await benchHostile()));
if (!only || only === 'delivery') rows.push(...(await benchDelivery()));
if (!only || only === 'delivery' || only === 'campaign') rows.push(...(await benchCampaign()));
if (!only || only === 'delivery' || only === 'writes') rows.push(...(await benchRowWrites()));
if (!only || only === 'intake') rows.push(...(await benchIntake()));
if (!only || only === 'latency') rows.push(...(await benchLatency()));
if (!only || only === 'lanes') rows.push(...(await benchLanes()));
if (!only || only === 'neighbours') rows.push(...(await benchNeighbours()));
if (!only || only === 'flaky') rows.push(...(await benchFlaky()));
if (!only || only === 'pace') rows.push(...(await benchPace()));
if (!only || only === 'recover') rows.push(...(await benchRecover()));
if (!only || only === 'crash') rows.push(...(await benchCrash()));
if (!only || only === 'galera') rows.push(...(await benchGalera()));
console.log(rows.join('\n'));
process.exit(0);
