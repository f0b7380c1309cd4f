// Event-loop time per hostile request: what the SOAP reader and the JSON depth
// check spend on inputs built to be expensive, each under its size limit,
// beside an ordinary call read the same way in the same run.
import { textNestsDeeperThan } from '../src/domain/jsonDepth.js';
import { parseSoapRequest } from '../src/transports/soap/soapRequest.js';

const open = '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">';
const ordinary = `${open}<s:Body><GetWebHooks xmlns="urn:newsletter-webhooks"><username>shop</username><password>secret</password></GetWebHooks></s:Body></s:Envelope>`;

const soapCases: Array<[string, string]> = [
  ['`<a>` nested 21,700 deep (65 KB)', open + '<a>'.repeat(21_700)],
  ['15,000 empty sibling elements', `${open}<s:Body>${'<x/>'.repeat(15_000)}`],
  ['4,000 namespace declarations on one element', `${open}<a ${Array.from({ length: 4000 }, (_, i) => `xmlns:p${i}="u"`).join(' ')}/>`],
];

/** The median of `runs` timings of `work`, in milliseconds. */
function median(work: () => void, runs = 21): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const started = performance.now();
    work();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

const attempt = (xml: string) => () => {
  try {
    parseSoapRequest(xml);
  } catch {
    // A Fault is the expected answer.
  }
};

export async function benchHostile(): Promise<string[]> {
  const baseline = median(attempt(ordinary));
  const rows = soapCases.map(([what, xml]) => {
    const took = median(attempt(xml));
    return `| SOAP reader, ${what}: event-loop time until the Fault | ${took.toFixed(2)} ms | an ordinary GetWebHooks call ${baseline.toFixed(3)} ms | ${(took / baseline).toFixed(0)}× |`;
  });
  const deepJson = '['.repeat(1_000_000);
  const jsonBaseline = JSON.stringify({ account: 'shop', event: 'optin_finalized', payload: { id: 1, fields: [{ id: 1, value: 'x' }] } });
  const check = median(() => textNestsDeeperThan(deepJson, 34));
  const parse = median(() => JSON.parse(jsonBaseline));
  rows.push(`| intake JSON depth check, 1 MB of \`[\` (refused at depth 34) | ${check.toFixed(2)} ms | JSON.parse of an ordinary event ${parse.toFixed(3)} ms | |`);
  return rows;
}
