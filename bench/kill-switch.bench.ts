// Kill switch latency: 1,000 daemons' control clients (the daemon's real ControlClient: SSE, signature checks)
// hold streams to one `writ server` process; an admin kills an MCP server; the clock stops when every client
// has verified the new signed state naming it. Repeated, killing and lifting, for a distribution.
//
//   node --import tsx bench/kill-switch.bench.ts [daemons=1000] [rounds=10]
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlClient } from '../src/daemon/control-client.js';
import { ServerClient } from '../src/daemon/server-client.js';
import { SimulatedDevice, startServerProcess } from '../test/support/server.js';
import { summary } from './stats.js';

const daemons = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 10);

const dataDir = mkdtempSync(join(tmpdir(), 'writ-bench-kill-'));
const server = await startServerProcess(['--data', dataDir, '--port', '0']);
const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
try {
  const devices = Array.from({ length: daemons }, () => new SimulatedDevice());
  let orgPem = '';
  for (let i = 0; i < devices.length; i += 50) {
    const answers = await Promise.all(devices.slice(i, i + 50).map((device) => device.enroll(server, token)));
    orgPem = (answers[0] as { org: { public_key_pem: string } }).org.public_key_pem;
  }
  const orgKey = createPublicKey(orgPem);
  const seen = new Array<string[] | undefined>(daemons).fill(undefined);
  let waiting: { target: string; present: boolean; left: number; done: () => void } | undefined;
  const clients = devices.map((device, i) => {
    const client = new ControlClient({
      client: new ServerClient(server.url, device),
      orgKey,
      version: -1,
      log: () => {},
      onControl: (update) => {
        seen[i] = update.kills;
        if (waiting && update.kills.includes(waiting.target) === waiting.present && --waiting.left === 0) waiting.done();
      },
    });
    client.start();
    return client;
  });
  const connected = () => seen.every((kills) => kills !== undefined);
  for (let tries = 0; tries < 600 && !(connected() && clients.every((client) => client.status().connected)); tries++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  console.log(`${clients.filter((client) => client.status().connected).length} of ${daemons} control streams connected`);

  const samples: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const target = 'mcp:bench-server';
    const present = round % 2 === 0;
    const landed = new Promise<void>((resolve) => (waiting = { target, present, left: daemons, done: resolve }));
    const started = performance.now();
    const response = await fetch(present ? `${server.url}/v1/kills` : `${server.url}/v1/kills/${target}`, {
      method: present ? 'POST' : 'DELETE',
      headers: { authorization: `Bearer ${token}`, ...(present && { 'content-type': 'application/json' }) },
      ...(present && { body: JSON.stringify({ target }) }),
    });
    if (!response.ok) throw new Error(`kill failed: ${response.status} ${await response.text()}`);
    await landed;
    samples.push(performance.now() - started);
  }
  console.log(`kill switch on ${daemons} connected daemons, ms until every one verified it: ${summary(samples, 0)}`);
  for (const client of clients) await client.stop();
} finally {
  server.child.kill('SIGTERM');
  await server.exited;
  rmSync(dataDir, { recursive: true, force: true });
}
