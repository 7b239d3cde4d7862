// pop_calls.js: the Node.js side of the benchmark, on the provider's own
// SDK core (@alicloud/pop-core RPCClient). Mirrors calls.lua:
//
//   node pop_calls.js ENDPOINT REGION none
//   node pop_calls.js ENDPOINT REGION describe N
//   node pop_calls.js ENDPOINT REGION delete IDS_FILE CONCURRENCY
//
// ENDPOINT is http[s]://host:port; the key comes from
// ALIBABA_CLOUD_ACCESS_KEY_ID and _SECRET; a self-signed CA from
// NODE_EXTRA_CA_CERTS. Any failed call ends the run with status 1.
'use strict';

const fs = require('fs');
const RPCClient = require('@alicloud/pop-core').RPCClient;

const MAX_CALLS = 1000000;

function fail(message) {
  process.stderr.write(`pop_calls.js: ${message}\n`);
  process.exit(1);
}

async function describe(client, region, n) {
  for (let i = 0; i < n; i++) {
    await client.request('DescribeServerCertificates', { RegionId: region });
  }
}

// A pool of `concurrency` workers taking the next id until none is left.
async function remove(client, region, ids, concurrency) {
  let next = 0;
  let failed = 0;
  let first = null;
  async function worker() {
    while (next < ids.length) {
      const id = ids[next++];
      try {
        await client.request('DeleteServerCertificate',
          { RegionId: region, ServerCertificateId: id });
      } catch (err) {
        failed++;
        first = first || String(err);
      }
    }
  }
  const workers = [];
  for (let i = 0; i < concurrency; i++) workers.push(worker());
  await Promise.all(workers);
  if (failed) fail(`${failed} deletes failed; first: ${first}`);
}

async function main(argv) {
  const [endpoint, region, mode, a, b] = argv;
  const client = new RPCClient({
    endpoint: endpoint,
    apiVersion: '2014-05-15',
    accessKeyId: process.env.ALIBABA_CLOUD_ACCESS_KEY_ID,
    accessKeySecret: process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
  });
  if (mode === 'describe') {
    const n = Number(a);
    if (!Number.isInteger(n) || n < 0 || n > MAX_CALLS) fail('describe N');
    await describe(client, region, n);
  } else if (mode === 'delete') {
    const concurrency = Number(b);
    if (!a || !Number.isInteger(concurrency) || concurrency < 1) {
      fail('delete needs IDS_FILE CONCURRENCY');
    }
    const ids = fs.readFileSync(a, 'utf8').split('\n').filter(Boolean);
    await remove(client, region, ids, concurrency);
  } else if (mode !== 'none') {
    fail('usage: ENDPOINT REGION none | describe N | ' +
         'delete IDS_FILE CONCURRENCY');
  }
}

main(process.argv.slice(2)).then(() => process.exit(0),
  (err) => fail(String(err && err.stack || err)));
