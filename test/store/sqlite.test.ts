// The store contract on SQLite (in memory), plus what only a file shows: WAL mode and append-only triggers.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openStore } from '../../src/store/open.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { runInventorySuite } from './inventory-suite.js';
import { ChainBuilder, deviceRecord, runStoreSuite } from './store-suite.js';

const sqliteFactory = {
  async open() {
    const store = await openSqliteStore(':memory:');
    await store.migrate();
    return store;
  },
};
runStoreSuite('sqlite', sqliteFactory);
runInventorySuite('sqlite', sqliteFactory);

describe('sqlite store: file', () => {
  it('uses WAL, survives reopening, and refuses changes to the log', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'writ-store-'));
    try {
      const path = join(dir, 'writ.db');
      const store = await openStore(`sqlite:${path}`);
      await store.migrate();
      await store.enrollDevice(deviceRecord('dev_1'));
      const chain = new ChainBuilder('dev_1');
      await store.ingest('dev_1', chain.next(3), '2026-01-01T00:00:00.000Z');
      await store.addCheckpoint({ size: 3, root: Buffer.alloc(32), note: 'note', createdAt: '2026-01-01T00:00:01.000Z' });
      await store.close();

      const again = await openStore(path);
      await again.migrate();
      assert.equal(await again.logSize(), 3);
      assert.equal((await again.getDevice('dev_1'))?.headHash, chain.hash);
      await again.close();

      const db = new Database(path);
      try {
        assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
        for (const sql of ["UPDATE events SET kind = 'x'", 'DELETE FROM events', 'DELETE FROM nodes', "UPDATE checkpoints SET note = ''"]) {
          assert.throws(() => db.prepare(sql).run(), /append-only/, sql);
        }
      } finally {
        db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('openStore', () => {
  it('opens sqlite by scheme or bare path and refuses other schemes', async () => {
    for (const spec of ['sqlite::memory:', ':memory:']) {
      const store = await openStore(spec);
      assert.equal(store.kind, 'sqlite');
      await store.close();
    }
    await assert.rejects(openStore('mysql://db/writ'), /store `mysql:\/\/db\/writ` is not supported/);
    await assert.rejects(openStore('sqlite:'), /names no file/);
    await assert.rejects(openStore(''), /not supported/);
  });
});
