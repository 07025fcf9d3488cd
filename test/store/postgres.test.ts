// The store contract on PostgreSQL, each test in its own throwaway schema, plus what only PostgreSQL has: several
// replicas (pools) on one database, concurrent migrations, and connections that die.
// WRIT_TEST_POSTGRES_URL overrides the database (default postgres://postgres@127.0.0.1:5432/test).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { LOG_LOCK_ID, POSTGRES_MIGRATIONS } from '../../src/store/postgres-schema.js';
import { openPostgresStore } from '../../src/store/postgres.js';
import { openStore } from '../../src/store/open.js';
import { runInventorySuite } from './inventory-suite.js';
import { assertTreeMatches, ChainBuilder, deviceRecord, runStoreSuite } from './store-suite.js';

const DATABASE_URL = process.env.WRIT_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const RUN = `writ_t_${randomBytes(4).toString('hex')}`;
const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
const schemas: string[] = [];

/** A new, empty schema, dropped after the run. */
async function freshSchema(): Promise<string> {
  const schema = `${RUN}_${schemas.length}`;
  await admin.query(`CREATE SCHEMA ${schema}`);
  schemas.push(schema);
  return schema;
}

/** The database URL with `schema` first on the search path; the schema also names the connections. */
function schemaUrl(schema: string): string {
  const url = new URL(DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  url.searchParams.set('application_name', schema);
  return url.toString();
}

after(async () => {
  for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
});

const postgresFactory = {
  async open() {
    const store = await openPostgresStore(schemaUrl(await freshSchema()), { poolSize: 3 });
    await store.migrate();
    return store;
  },
};
runStoreSuite('postgres', postgresFactory);
runInventorySuite('postgres', postgresFactory);

const at = (seconds: number): string => new Date(Date.UTC(2026, 0, 1) + seconds * 1000).toISOString();

describe('postgres store: replicas', () => {
  it('migrates once when several replicas start together', async () => {
    const url = schemaUrl(await freshSchema());
    const stores = await Promise.all(Array.from({ length: 4 }, () => openPostgresStore(url, { poolSize: 2 })));
    try {
      await Promise.all(stores.map((store) => store.migrate()));
      const { rows } = await admin.query(`SELECT count(*)::int AS n FROM ${schemas.at(-1)}.schema_migrations`);
      assert.equal(rows[0].n, POSTGRES_MIGRATIONS.length, 'each migration once');
      assert.equal(await stores[3].controlVersion(), 0);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it('sequences every event exactly once when two replicas ingest from 20 devices at once', async () => {
    const url = schemaUrl(await freshSchema());
    const replicas = [await openPostgresStore(url, { poolSize: 4 }), await openPostgresStore(url, { poolSize: 4 })];
    try {
      await replicas[0].migrate();
      const chains = Array.from({ length: 20 }, (_, i) => new ChainBuilder(`dev_${String(i).padStart(2, '0')}`));
      for (const chain of chains) await replicas[0].enrollDevice(deviceRecord(chain.deviceId));
      const BATCHES = 6;
      await Promise.all(
        chains.map(async (chain, d) => {
          for (let b = 0; b < BATCHES; b += 1) {
            const batch = chain.next(1 + ((d + b) % 9), { sessionId: `s_${d}` });
            const replica = replicas[(d + b) % 2];
            const result = await replica.ingest(chain.deviceId, batch, at(b));
            assert.equal(result.stop, undefined);
            assert.deepEqual(result.sequenced.map((s) => s.seq), batch.map((e) => e.seq));
            // A retry through the other replica (as after a lost response) is a duplicate with the same indexes.
            if (b % 3 === 0) {
              const retry = await replicas[(d + b + 1) % 2].ingest(chain.deviceId, batch, at(b));
              assert.deepEqual(retry.sequenced, result.sequenced.map((s) => ({ ...s, duplicate: true })));
            }
          }
        }),
      );
      const total = chains.reduce((sum, chain) => sum + chain.all.length, 0);
      assert.equal(await replicas[1].logSize(), total);
      const stored = await replicas[1].eventsByIndex(0, total + 10);
      assert.deepEqual(stored.map((e) => e.index), Array.from({ length: total }, (_, i) => i), 'indexes 0..n-1, no holes');
      const byKey = new Map(chains.flatMap((chain) => chain.all.map((e) => [`${chain.deviceId}:${e.seq}`, e] as const)));
      assert.equal(new Set(stored.map((e) => `${e.deviceId}:${e.seq}`)).size, total, 'each event once');
      for (const chain of chains) {
        const own = stored.filter((e) => e.deviceId === chain.deviceId);
        assert.deepEqual(own.map((e) => e.seq), chain.all.map((e) => e.seq), `${chain.deviceId} in chain order`);
        assert.equal((await replicas[0].getDevice(chain.deviceId))?.headHash, chain.hash);
      }
      await assertTreeMatches(replicas[0], stored.map((e) => byKey.get(`${e.deviceId}:${e.seq}`)!.leafHash));
      const sessions = await replicas[0].sessions({ offset: 0, limit: 100 });
      assert.equal(sessions.total, 20);
      assert.equal(sessions.items.reduce((sum, s) => sum + s.events, 0), total);
    } finally {
      await Promise.all(replicas.map((store) => store.close()));
    }
  });
});

describe('postgres store: failures', () => {
  it('rejects a query whose connection dies and recovers with new connections', async () => {
    const schema = await freshSchema();
    const store = await openPostgresStore(schemaUrl(schema), { poolSize: 2 });
    const lock = await admin.connect();
    try {
      await store.migrate();
      await store.enrollDevice(deviceRecord('dev_1'));
      const chain = new ChainBuilder('dev_1');
      await store.ingest('dev_1', chain.next(2), at(1));

      // Hold the log lock so the next ingest waits inside its transaction, then kill the store's connections.
      await lock.query('SELECT pg_advisory_lock($1)', [LOG_LOCK_ID]);
      const batch = chain.next(3);
      const pending = store.ingest('dev_1', batch, at(2));
      pending.catch(() => {}); // it rejects as soon as its connection dies, before assert.rejects below looks
      await waitFor(async () => (await backends(schema, "wait_event_type = 'Lock'")) > 0);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [schema]);
      await assert.rejects(pending);
      await lock.query('SELECT pg_advisory_unlock($1)', [LOG_LOCK_ID]);

      // The retry goes through a new connection; the log holds the batch once.
      const retried = await retry(() => store.ingest('dev_1', batch, at(3)));
      assert.deepEqual(retried.sequenced.map((s) => s.index), [2, 3, 4]);
      assert.equal(await store.logSize(), 5);
      await assertTreeMatches(store, chain.all.map((e) => e.leafHash));
    } finally {
      await lock.query('SELECT pg_advisory_unlock_all()');
      lock.release();
      await store.close();
    }
  });

  it('refuses changes to the log rows', async () => {
    const schema = await freshSchema();
    const store = await openStore(schemaUrl(schema));
    try {
      await store.migrate();
      await store.enrollDevice(deviceRecord('dev_1'));
      await store.ingest('dev_1', new ChainBuilder('dev_1').next(2), at(1));
      await store.addCheckpoint({ size: 2, root: Buffer.alloc(32), note: 'n', createdAt: at(2) });
      for (const sql of ["UPDATE events SET kind = 'x'", 'DELETE FROM nodes', "UPDATE checkpoints SET note = ''", 'TRUNCATE events']) {
        await assert.rejects(admin.query(sql.replace(/(events|nodes|checkpoints)/, `${schema}.$1`)), /append-only/, sql);
      }
    } finally {
      await store.close();
    }
  });
});

async function backends(applicationName: string, condition: string): Promise<number> {
  const { rows } = await admin.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND ${condition}`,
    [applicationName],
  );
  return rows[0].n;
}

async function waitFor(condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('condition not met within 5 s');
}

// What the server does with a transient store error: try again.
async function retry<T>(operation: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await operation();
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}
