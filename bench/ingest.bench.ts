// Sustained ingest into the org log: a `writ server` process (SQLite, then PostgreSQL) takes signed batches
// from simulated devices uploading at once. Events are signed before the clock starts, so the figure is the
// server's: request signature, every event's Ed25519 signature, chain checks, sequencing and tree nodes.
//
//   node --import tsx bench/ingest.bench.ts [devices=100] [eventsPerDevice=600] [batch=100]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedDevice, startServerProcess } from '../test/support/server.js';
import { withPostgresDatabase, withSqliteDatabase } from './databases.js';

const devices = Number(process.argv[2] ?? 100);
const perDevice = Number(process.argv[3] ?? 600);
const batch = Number(process.argv[4] ?? 100);

async function run(label: string, db: string): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'writ-bench-server-'));
  const { url, child, exited } = await startServerProcess(['--db', db, '--port', '0', '--data', dataDir]);
  try {
    const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    const fleet = Array.from({ length: devices }, () => new SimulatedDevice());
    await Promise.all(fleet.map((device) => device.enroll({ url }, token)));
    const batches = fleet.map((device) => {
      const events = device.events(perDevice);
      return Array.from({ length: Math.ceil(perDevice / batch) }, (_, i) => events.slice(i * batch, (i + 1) * batch));
    });
    const started = performance.now();
    await Promise.all(
      fleet.map(async (device, d) => {
        for (const events of batches[d]) {
          const response = await device.request(`${url}/v1/ingest`, 'POST', { events });
          const body = (await response.json()) as { sequenced?: unknown[]; error?: unknown };
          if (response.status !== 200 || body.sequenced?.length !== events.length) throw new Error(`ingest failed: ${response.status} ${JSON.stringify(body).slice(0, 200)}`);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const total = devices * perDevice;
    console.log(`${label}: ${total} events from ${devices} devices in batches of ${batch}: ${(total / seconds).toFixed(0)} events/s (${seconds.toFixed(2)} s)`);
  } finally {
    child.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await withSqliteDatabase('writ-bench-db-', (url) => run('sqlite', url));
await withPostgresDatabase((url) => run('postgres', url));
