// A web service's receiver for the relay's deliveries, in plain JavaScript with nothing to install (Node 22 or later):
//   CALLBACK_HMAC_SECRET=dev-secret PORT=9000 node examples/receiver.js
// It checks both signatures the relay sends (Standard Webhooks' webhook-signature and the original X-Signature) on the
// raw body, refuses a timestamp more than five minutes off (replays), prints each verified payload once per webhook-id,
// and answers 204 (2xx tells the relay to stop retrying). Anything it refuses gets 400 and a line on stderr.
const { createHmac, timingSafeEqual } = require('node:crypto');
const http = require('node:http');

const secret = process.env.CALLBACK_HMAC_SECRET || 'dev-secret';
const host = process.env.HOST || '127.0.0.1';
const port = Number(process.env.PORT ?? 9000);
const TOLERANCE_SECONDS = 5 * 60;

// The Standard Webhooks key: the base64 payload of a `whsec_…` secret, otherwise the secret's UTF-8 bytes.
const key = secret.startsWith('whsec_')
  ? Buffer.from(secret.slice('whsec_'.length), 'base64')
  : Buffer.from(secret, 'utf8');

function sameText(a, b) {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Why the delivery is refused, or null when both signatures hold. */
function problemWith(headers, body) {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (!id || !timestamp || !signatures) return 'missing webhook-id, webhook-timestamp or webhook-signature';
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > TOLERANCE_SECONDS) return 'timestamp too old or too new';
  const expected = `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64')}`;
  // The header may carry several signatures, separated by spaces; one match is enough.
  if (!signatures.split(' ').some((signature) => sameText(signature, expected)))
    return 'webhook-signature does not match';
  const xSignature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  if (!sameText(headers['x-signature'] || '', xSignature)) return 'X-Signature does not match';
  return null;
}

const seen = new Set(); // use your database in earnest: the relay delivers at least once

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks); // verify these raw bytes, before any JSON parsing
    const problem = req.method === 'POST' ? problemWith(req.headers, body) : 'not a POST';
    if (problem) {
      console.error(`refused ${req.method} ${req.url}: ${problem}`);
      res.writeHead(400).end();
      return;
    }
    const id = req.headers['webhook-id'];
    if (seen.has(id)) {
      console.log(`duplicate ${id}: already stored`);
    } else {
      seen.add(id);
      console.log(`verified delivery ${id}:`);
      console.log(JSON.stringify(JSON.parse(body.toString('utf8')), null, 2));
    }
    res.writeHead(204).end();
  });
});

server.listen(port, host, () => console.log(`receiver listening on http://${host}:${server.address().port}`));
