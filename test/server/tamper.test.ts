// Someone with write access to the server's database changes, deletes, reorders or inserts log entries.
// The triggers that keep the log append-only are dropped first: they stop mistakes, not an attacker.
// Each change must make `writ verify` fail on an exported bundle, with a message that says what is wrong.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { canonicalBytes } from '../../src/core/canonical-json.js';
import { eventHash, openEvent, sealEvent } from '../../src/core/event.js';
import { leafHash } from '../../src/ledger/merkle.js';
import { SimulatedDevice, startTestServer, verifyWholeLog, type TestServer } from '../support/server.js';
import { WRIT_BIN } from '../support/writ-process.js';

let server: TestServer | undefined;
let dir: string | undefined;
afterEach(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A server on a SQLite file with two devices' events in its log, and a handle on the database. */
async function populated() {
  dir = mkdtempSync(join(tmpdir(), 'writ-tamper-'));
  const dbPath = join(dir, 'writ.db');
  server = await startTestServer({ db: `sqlite:${dbPath}` });
  const devices = [new SimulatedDevice(), new SimulatedDevice()];
  for (const device of devices) {
    await device.enroll(server, server.adminToken);
    const response = await device.request(`${server.url}/v1/ingest`, 'POST', { events: device.events(6) });
    assert.equal(response.status, 200);
  }
  const baseline = await verifyWholeLog(server.url, server.adminToken);
  assert.ok(baseline.ok, baseline.problems.join('\n'));
  assert.equal(baseline.events, 12);
  const db = new Database(dbPath);
  for (const { name } of db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'trigger'").all()) db.exec(`DROP TRIGGER ${name}`);
  return { db, devices };
}

/** Exports the whole log and runs the real `writ verify` on it. */
async function writVerify(): Promise<{ status: number | null; output: string }> {
  const response = await fetch(`${server!.url}/v1/export?format=bundle`, { headers: { authorization: `Bearer ${server!.adminToken}` } });
  const text = await response.text();
  const path = join(dir!, 'bundle.jsonl');
  writeFileSync(path, text);
  const orgKey = JSON.parse(text.split('\n')[0]).org_key as string;
  const run = spawnSync(process.execPath, [WRIT_BIN, 'verify', path, '--org-key', orgKey], { encoding: 'utf8' });
  return { status: run.status, output: run.stdout + run.stderr };
}

describe('tampering with the server database', () => {
  it('a changed event fails its signature', async () => {
    const { db } = await populated();
    const row = db.prepare<[], { envelope: string }>('SELECT envelope FROM events WHERE idx = 3').get()!;
    const envelope = JSON.parse(row.envelope);
    const body = openEvent(envelope);
    body.data = { ...body.data, tool: 'Read' };
    envelope.payload = Buffer.from(canonicalBytes(body)).toString('base64');
    db.prepare('UPDATE events SET envelope = ? WHERE idx = 3').run(JSON.stringify(envelope));
    const verdict = await writVerify();
    assert.equal(verdict.status, 1);
    assert.match(verdict.output, /FAILED/);
    assert.match(verdict.output, /event 3 .*signature/);
  });

  it('a deleted event leaves a hole the verifier names', async () => {
    const { db } = await populated();
    db.prepare('DELETE FROM events WHERE idx = 4').run();
    const verdict = await writVerify();
    assert.equal(verdict.status, 1);
    assert.match(verdict.output, /missing|has 11 events|hole/i);
  });

  it('two events swapped no longer hash to the signed root', async () => {
    const { db } = await populated();
    const rows = db.prepare<[], { idx: number; envelope: string }>('SELECT idx, envelope FROM events WHERE idx IN (2, 8) ORDER BY idx').all();
    db.prepare('UPDATE events SET envelope = ? WHERE idx = ?').run(rows[1].envelope, 2);
    db.prepare('UPDATE events SET envelope = ? WHERE idx = ?').run(rows[0].envelope, 8);
    const verdict = await writVerify();
    assert.equal(verdict.status, 1);
    assert.match(verdict.output, /root/);
  });

  it('an inserted event, even sequenced and checkpointed by the server itself, is not signed by the device', async () => {
    const { db, devices } = await populated();
    const victim = devices[0];
    const last = openEvent(JSON.parse(db.prepare<[string], { envelope: string }>('SELECT envelope FROM events WHERE device_id = ? AND seq = 6').get(victim.id)!.envelope));
    // Claims to be the victim's seventh event, chained correctly, but signed by a key that is not the victim's.
    const impostor = new SimulatedDevice();
    const body = { ...last, seq: 7, prev: eventHash(last), data: { tool: 'Bash', decision: { decision: 'allow', rules: [] } } };
    const forged = sealEvent(body, { keyId: victim.signer.keyId, sign: impostor.signer.sign }).envelope;
    const entry = Buffer.from(canonicalBytes(forged));
    // The server's own store appends it, as a compromised server would: nodes and the next checkpoint include it.
    const result = await server!.store.ingest(victim.id, [
      { seq: 7, prev: body.prev, hash: eventHash(body), leafHash: leafHash(entry), envelope: entry.toString('utf8'), time: body.time, kind: body.kind, agentName: 'claude-code', rules: [] },
    ], new Date().toISOString());
    assert.equal(result.sequenced.length, 1);
    const verdict = await writVerify();
    assert.equal(verdict.status, 1);
    assert.match(verdict.output, /event 12/);
  });
});
