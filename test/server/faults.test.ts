// Faults the control plane must survive without losing, duplicating or reordering evidence: a server killed
// with SIGKILL mid-upload, PostgreSQL stopped under load, and two replicas sequencing one log.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { freePort, SimulatedDevice, startServerProcess, uploadAll, verifyWholeLog, type ServerProcess } from '../support/server.js';

const POSTGRES = 'postgres://postgres@127.0.0.1:5432';
const PG_OUTAGE_SECONDS = Number(process.env.WRIT_PG_OUTAGE_SECONDS ?? 60);
const cleanups: (() => Promise<unknown> | unknown)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function scratchDatabase(): Promise<string> {
  const name = `writ_faults_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
  const admin = new pg.Client({ connectionString: `${POSTGRES}/test` });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  cleanups.push(async () => {
    const client = new pg.Client({ connectionString: `${POSTGRES}/test` });
    await client.connect();
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.end();
  });
  return `${POSTGRES}/${name}`;
}

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'writ-faults-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function stop(server: ServerProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  server.child.kill(signal);
  await server.exited;
}

async function fleet(url: string, token: string, count: number): Promise<SimulatedDevice[]> {
  const devices = Array.from({ length: count }, () => new SimulatedDevice());
  await Promise.all(devices.map((device) => device.enroll({ url }, token)));
  return devices;
}

function assertWholeLog(verdict: Awaited<ReturnType<typeof verifyWholeLog>>, events: number): void {
  assert.deepEqual(verdict.problems, []);
  assert.ok(verdict.ok);
  assert.ok(verdict.complete);
  assert.equal(verdict.events, events, 'every event sequenced exactly once');
  assert.equal(verdict.size, events);
}

describe('faults', { timeout: 10 * 60_000 }, () => {
  it('a server killed with SIGKILL during a steady upload comes back with nothing lost or duplicated', async () => {
    const dir = dataDir();
    const port = await freePort();
    const args = ['--data', dir, '--port', String(port)];
    let server = await startServerProcess(args);
    cleanups.push(() => stop(server));
    const token = readFileSync(join(dir, 'admin-token'), 'utf8').trim();
    const devices = await fleet(server.url, token, 10);
    const perDevice = 400;
    const uploads = Promise.all(devices.map((device) => uploadAll(device, () => server.url, device.events(perDevice), 20)));
    await new Promise((resolve) => setTimeout(resolve, 400));
    await stop(server, 'SIGKILL');
    server = await startServerProcess(args);
    await uploads;
    const verdict = await waitForWholeLog(server.url, token, devices.length * perDevice);
    assertWholeLog(verdict, devices.length * perDevice);
    assert.equal(readdirSync(dir).filter((name) => name === 'admin-token').length, 1);
  });

  it('two replicas on one PostgreSQL ingest from 20 devices at once and keep one consistent log', async () => {
    const db = await scratchDatabase();
    const dirs = [dataDir(), dataDir()];
    const first = await startServerProcess(['--db', db, '--data', dirs[0], '--port', '0']);
    cleanups.push(() => stop(first));
    // Replicas share the org key and origin; the second gets a copy of the first's data dir.
    execFileSync('cp', ['-a', `${dirs[0]}/.`, dirs[1]]);
    const second = await startServerProcess(['--db', db, '--data', dirs[1], '--port', '0']);
    cleanups.push(() => stop(second));
    const token = readFileSync(join(dirs[0], 'admin-token'), 'utf8').trim();
    const devices = await fleet(first.url, token, 20);
    const perDevice = 150;
    let turn = 0;
    // Every batch goes to the other replica than the last, so both sequence every device's chain.
    await Promise.all(devices.map((device) => uploadAll(device, () => (turn++ % 2 === 0 ? first.url : second.url), device.events(perDevice), 10)));
    for (const url of [first.url, second.url]) assertWholeLog(await waitForWholeLog(url, token, devices.length * perDevice), devices.length * perDevice);
  });

  it(`PostgreSQL stopped for ${PG_OUTAGE_SECONDS} s under load: uploads resume and nothing is lost`, async (t) => {
    const cluster = postgresCluster();
    if (!cluster) return t.skip('pg_ctlcluster is not available on this machine');
    const db = await scratchDatabase();
    const dir = dataDir();
    const server = await startServerProcess(['--db', db, '--data', dir, '--port', '0']);
    cleanups.push(() => stop(server));
    const token = readFileSync(join(dir, 'admin-token'), 'utf8').trim();
    const devices = await fleet(server.url, token, 5);
    const perDevice = 300;
    const events = devices.map((device) => device.events(perDevice));
    const uploads = Promise.all(devices.map((device, i) => uploadAll(device, () => server.url, events[i], 5)));
    await new Promise((resolve) => setTimeout(resolve, 300));
    execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', ...cluster, 'stop', '-m', 'fast']);
    try {
      const during = await devices[0].request(`${server.url}/v1/ingest`, 'POST', { events: events[0].slice(0, 1) });
      assert.ok(during.status >= 500, `the server answers ${during.status} while its database is down, not success`);
      await new Promise((resolve) => setTimeout(resolve, PG_OUTAGE_SECONDS * 1000));
    } finally {
      execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', ...cluster, 'start']);
    }
    await uploads;
    assertWholeLog(await waitForWholeLog(server.url, token, devices.length * perDevice), devices.length * perDevice);
  });
});

/** The checkpoint trails ingest by up to one interval; wait until it covers every event. */
async function waitForWholeLog(url: string, token: string, events: number) {
  for (let tries = 0; ; tries++) {
    const verdict = await verifyWholeLog(url, token);
    if (verdict.size >= events || tries > 50) return verdict;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function postgresCluster(): [string, string] | undefined {
  try {
    const line = execFileSync('pg_lsclusters', ['--no-header'], { encoding: 'utf8' }).trim().split('\n')[0];
    const [version, name] = line.split(/\s+/);
    return version && name ? [version, name] : undefined;
  } catch {
    return undefined;
  }
}
