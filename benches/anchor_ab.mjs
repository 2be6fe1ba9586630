// Side-by-side CPU per order page for several servers already running on one seeded database
// (README, Performance): alternating rounds of the anchor's order query at 8 connections, each
// server's CPU read from /proc/<pid>/stat around its round. Start the anchor with HOLD=1 (it seeds
// the database, starts both servers and writes the student's token), start other campus-photo
// builds against the same database on other ports, then:
//
//   ANCHOR_DIR=/path/to/apollo-anchor ROUNDS=4 DUR=10 node benches/anchor_ab.mjs \
//     '[{"name":"new","url":"http://127.0.0.1:18300","pid":1234},{"name":"apollo","url":"http://127.0.0.1:18400","pid":1235}]'
//
// autocannon comes from the anchor's own npm install (its package-lock.json pins it).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

const anchor = process.env.ANCHOR_DIR ?? '.';
const autocannon = createRequire(resolve(anchor, 'package.json'))('autocannon');
const token = readFileSync(resolve(anchor, '.run/token'), 'utf8').trim();
// The anchor's `orders` query (bench.mjs, QUERIES.orders).
const query =
  '{ viewer { orders(first: 20) { nodes { id number status statusLabel createdAt amount { amountFen formatted } ' +
  'enrollment { id college major school { name } } photo { id } events { toStatus at } } } } }';
const servers = JSON.parse(process.argv[2]);
const rounds = Number(process.env.ROUNDS ?? 3);
const duration = Number(process.env.DUR ?? 10);
const cpuMs = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // utime + stime, in 10 ms ticks
};
const perPage = {};
for (let round = 0; round < rounds; round++) {
  for (const server of round % 2 ? [...servers].reverse() : servers) {
    const before = cpuMs(server.pid);
    const out = await autocannon({
      url: `${server.url}/graphql`, method: 'POST', connections: 8, duration,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query }),
    });
    const pages = out.requests.total;
    const ms = (cpuMs(server.pid) - before) / pages;
    (perPage[server.name] ??= []).push(ms);
    console.log(`round ${round + 1} ${server.name}: ${pages} pages, ${(pages / duration).toFixed(0)}/s, ` +
      `${ms.toFixed(3)} ms CPU/page, non-2xx ${out.non2xx}, errors ${out.errors}`);
  }
}
for (const [name, list] of Object.entries(perPage)) {
  const sorted = [...list].sort((a, b) => a - b);
  console.log(`${name}: ${list.map((x) => x.toFixed(3)).join(' ')}  median ${sorted[Math.floor(sorted.length / 2)].toFixed(3)}`);
}
