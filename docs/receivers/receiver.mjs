// A webhook receiver that checks what it gets: the signature (Standard
// Webhooks), duplicates (webhook-id) and gaps (webhook-sequence and
// webhook-previous-sequence). Run it with `node receiver.mjs`.
//   WEBHOOK_SECRET  the webhook's secret (whsec_…, from CreateWebHook)
//   PORT            where it listens (8000)
//   RECEIVER_LOG    where each decision is written, one line each (else stdout)
import { createHmac, timingSafeEqual } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';

const key = Buffer.from(process.env.WEBHOOK_SECRET.slice('whsec_'.length), 'base64');
const log = (line) => (process.env.RECEIVER_LOG ? appendFileSync(process.env.RECEIVER_LOG, `${line}\n`) : console.log(line));
// The sequences received; a real receiver keeps them in its database.
const seen = new Set();

function signedCorrectly(id, timestamp, body, header) {
  // HMAC-SHA256 of "id.timestamp.body" with the secret's base64 part. While a
  // secret is rotated two signatures come, space-separated: either may match.
  const expected = Buffer.from(`v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`);
  return String(header ?? '').split(' ').some((signature) => signature.length === expected.length && timingSafeEqual(Buffer.from(signature), expected));
}

createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const id = req.headers['webhook-id'];
    const timestamp = Number(req.headers['webhook-timestamp']);
    if (!signedCorrectly(id, timestamp, body, req.headers['webhook-signature']) || Math.abs(Date.now() / 1000 - timestamp) > 300) {
      log(`refused ${id}: bad signature or timestamp`);
      return res.writeHead(401).end();
    }
    // A test request (TestWebHook, the portal's "Test the URL now") is signed
    // like an event but is none: answer 2xx and handle nothing.
    if (req.headers['x-webhook-event'] === 'webhook_test') {
      log(`test request ${id}: answered, nothing handled`);
      return res.writeHead(204).end();
    }
    // Every event of a webhook has a number; each one names the number of its
    // subscriber's previous event (0: none). An event whose previous number
    // never arrived tells that one is missing (given up, discarded or erased).
    const sequence = req.headers['webhook-sequence'];
    const previous = req.headers['webhook-previous-sequence'] ?? '0';
    if (sequence !== undefined && seen.has(sequence)) {
      log(`duplicate ${id} (sequence ${sequence}): already handled`);
    } else {
      if (sequence !== undefined && previous !== '0' && !seen.has(previous)) log(`gap before sequence ${sequence}: sequence ${previous} never arrived`);
      // … handle the event here: JSON.parse(body) …
      if (sequence !== undefined) seen.add(sequence);
      log(`accepted ${id} (sequence ${sequence ?? 'none'})`);
    }
    res.writeHead(204).end();
  });
}).listen(Number(process.env.PORT ?? 8000), process.env.HOST ?? '0.0.0.0');
