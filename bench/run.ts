// npm run bench: every benchmark, each measured against a baseline in the same
// run (these machines are noisy), printed as the table docs/benchmarks.md keeps.
import { benchSoap } from './soap.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const only = process.argv[2];

const rows: string[] = ['| what | measured | baseline in the same run | ratio |', '| --- | --- | --- | --- |'];
if (!only || only === 'soap') rows.push(...(await benchSoap(seconds)));
console.log(rows.join('\n'));
process.exit(0);
