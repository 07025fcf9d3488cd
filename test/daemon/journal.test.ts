import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { canonicalBytes, canonicalJson } from '../../src/core/canonical-json.js';
import { ed25519Signer, signEnvelope, type Envelope } from '../../src/core/dsse.js';
import { CHECKPOINT_PAYLOAD_TYPE, EVENT_PAYLOAD_TYPE, eventHash, sealEvent, verifyCheckpoint, verifyEvent, type EventBody, type EventDraft } from '../../src/core/event.js';
import { Journal, verifyJournal } from '../../src/daemon/journal.js';
import { loadOrCreateDeviceKey, type DeviceKey } from '../../src/daemon/keys.js';

function draft(n: number): EventDraft {
  return {
    time: new Date(Date.UTC(2026, 0, 1) + n * 1000).toISOString(),
    actor: { os_user: 'alice', assurance: 'local-os-user' },
    agent: { name: 'claude-code', version: '2.1.197' },
    kind: 'hook.PreToolUse',
    session_id: n % 2 === 1 ? 'session-odd' : 'session-even',
    tool_use_id: `toolu_${n}`,
    data: {
      tool: 'Bash',
      actions: [{ action: 'exec', command: `echo ${n}` }],
      decision: { decision: n % 3 === 0 ? 'deny' : 'allow', rules: [`rule-${n}`], reason: '', policy_hash: 'sha256:00' },
    },
  };
}

const drafts = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => draft(from + i));

describe('Journal', () => {
  let dir: string;
  let dbPath: string;
  let key: DeviceKey;
  const deviceKeys = () => new Map([[key.keyId, key.publicKey]]);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'writ-journal-'));
    dbPath = join(dir, 'journal.db');
    key = loadOrCreateDeviceKey(join(dir, 'home'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function withDatabase(change: (db: Database.Database) => void): void {
    const db = new Database(dbPath);
    try {
      change(db);
    } finally {
      db.close();
    }
  }

  function envelopeOf(db: Database.Database, seq: number): Envelope {
    return JSON.parse(db.prepare<[number], string>('SELECT envelope FROM events WHERE seq = ?').pluck().get(seq)!);
  }

  function setEnvelope(db: Database.Database, seq: number, envelope: Envelope): void {
    db.prepare('UPDATE events SET envelope = ? WHERE seq = ?').run(JSON.stringify(envelope), seq);
  }

  function bodyOf(envelope: Envelope): EventBody {
    return JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
  }

  function withSignatureFlipped(envelope: Envelope): Envelope {
    const sig = Buffer.from(envelope.signatures[0].sig, 'base64');
    sig[10] ^= 0x40;
    return { ...envelope, signatures: [{ ...envelope.signatures[0], sig: sig.toString('base64') }] };
  }

  function assertRejected(seq: number, problem: string | RegExp, publicKey = key.publicKey): void {
    const verdict = verifyJournal(dbPath, publicKey);
    assert.ok(!verdict.ok, 'the journal should not verify');
    assert.equal(verdict.seq, seq, verdict.problem);
    if (typeof problem === 'string') assert.equal(verdict.problem, problem);
    else assert.match(verdict.problem, problem);
  }

  describe('recording', () => {
    it('chains each event to the one before, signed by the device key, with the device filled in', () => {
      const journal = Journal.open(dbPath, key);
      const first = journal.append(draft(1));
      const second = journal.append(draft(2));
      assert.deepEqual([first.seq, second.seq], [1, 2]);

      const [one, two] = journal.list();
      assert.deepEqual(one.body, { ...draft(1), v: 1, seq: 1, prev: '', device: { id: key.deviceId, key_id: key.keyId } });
      assert.equal(two.body.prev, one.hash);
      assert.equal(one.hash, first.hash);
      assert.equal(one.hash, eventHash(one.body));
      const verdict = verifyEvent(second.envelope, deviceKeys());
      assert.ok(verdict.ok);
      assert.equal(verdict.hash, second.hash);
      assert.deepEqual(journal.head(), { seq: 2, hash: second.hash });
      assert.equal(journal.count(), 2);
      journal.close();
    });

    it('continues the same chain after reopening', () => {
      const journal = Journal.open(dbPath, key);
      journal.appendMany(drafts(1, 3));
      const head = journal.head();
      journal.close();

      const reopened = Journal.open(dbPath, key);
      assert.deepEqual(reopened.head(), head);
      const next = reopened.append(draft(4));
      assert.equal(next.seq, 4);
      assert.equal(reopened.list({ since: 3 })[0].body.prev, head!.hash);
      reopened.close();
      assert.deepEqual(verifyJournal(dbPath, key.publicKey), { ok: true, events: 4, checkpoint: undefined });
    });

    it('lists in seq order after a given seq, up to a limit, or for one session', () => {
      const journal = Journal.open(dbPath, key);
      journal.appendMany(drafts(1, 6));
      assert.deepEqual(journal.list().map((event) => event.seq), [1, 2, 3, 4, 5, 6]);
      assert.deepEqual(journal.list({ since: 2, limit: 3 }).map((event) => event.seq), [3, 4, 5]);
      assert.deepEqual(journal.list({ sessionId: 'session-odd' }).map((event) => event.seq), [1, 3, 5]);
      assert.deepEqual(journal.list({ since: 3, sessionId: 'session-even', limit: 1 }).map((event) => event.seq), [4]);
      journal.close();
    });

    it('appends a batch all or nothing', () => {
      const journal = Journal.open(dbPath, key);
      journal.append(draft(1));
      const head = journal.head();
      const unencodable = { ...draft(3), data: { duration: NaN } };
      assert.throws(() => journal.appendMany([draft(2), unencodable]), /NaN is not allowed/);
      assert.equal(journal.count(), 1);
      assert.deepEqual(journal.head(), head);
      assert.equal(journal.append(draft(2)).seq, 2);
      journal.close();
      assert.equal(verifyJournal(dbPath, key.publicKey).ok, true);
    });

    it('creates its database, and SQLite its write-ahead log, readable by the owner only', () => {
      const journal = Journal.open(dbPath, key);
      journal.append(draft(1));
      assert.equal(statSync(dbPath).mode & 0o777, 0o600);
      assert.equal(statSync(`${dbPath}-wal`).mode & 0o777, 0o600);
      journal.close();
    });

    it('refuses to open the journal of another device', () => {
      Journal.open(dbPath, key).close();
      const other = loadOrCreateDeviceKey(join(dir, 'other-home'));
      assert.throws(() => Journal.open(dbPath, other), new RegExp(`is the journal of device ${key.deviceId}, not of ${other.deviceId}`));
    });
  });

  describe('checkpoints', () => {
    it('signs a checkpoint for the head only when events follow the last one', () => {
      const journal = Journal.open(dbPath, key);
      assert.equal(journal.checkpoint('2026-01-01T01:00:00.000Z'), undefined, 'nothing to cover in an empty journal');
      journal.appendMany(drafts(1, 3));
      const checkpoint = journal.checkpoint('2026-01-01T01:00:00.000Z');
      assert.deepEqual(checkpoint, {
        v: 1,
        device_id: key.deviceId,
        seq: 3,
        head: journal.head()!.hash,
        time: '2026-01-01T01:00:00.000Z',
      });
      assert.equal(journal.checkpoint('2026-01-01T01:00:01.000Z'), undefined);
      journal.close();

      withDatabase((db) => {
        const envelope = JSON.parse(db.prepare<[], string>('SELECT envelope FROM checkpoints').pluck().get()!);
        const verdict = verifyCheckpoint(envelope, deviceKeys());
        assert.ok(verdict.ok);
        assert.deepEqual(verdict.checkpoint, checkpoint);
      });
      assert.deepEqual(verifyJournal(dbPath, key.publicKey), { ok: true, events: 3, checkpoint });
    });

    it('signs one automatically every checkpointEvery events, dated by the event that reaches it', () => {
      const journal = Journal.open(dbPath, key, { checkpointEvery: 4 });
      journal.appendMany(drafts(1, 5));
      journal.append(draft(6));
      journal.appendMany(drafts(7, 9));
      journal.close();
      withDatabase((db) => {
        const rows = db.prepare('SELECT seq, time FROM checkpoints ORDER BY seq').all();
        assert.deepEqual(rows, [
          { seq: 4, time: draft(4).time },
          { seq: 8, time: draft(8).time },
        ]);
      });
      const verdict = verifyJournal(dbPath, key.publicKey);
      assert.ok(verdict.ok);
      assert.equal(verdict.checkpoint?.seq, 8);
    });
  });

  describe('verifyJournal', () => {
    // Twelve events, a checkpoint at 10.
    beforeEach(() => {
      const journal = Journal.open(dbPath, key, { checkpointEvery: 10 });
      journal.appendMany(drafts(1, 12));
      journal.close();
    });

    it('accepts the untouched journal, also while it is open for writing', () => {
      const journal = Journal.open(dbPath, key, { checkpointEvery: 10 });
      journal.append(draft(13));
      const verdict = verifyJournal(dbPath, key.publicKey);
      assert.ok(verdict.ok);
      assert.equal(verdict.events, 13);
      assert.equal(verdict.checkpoint?.seq, 10);
      journal.close();
    });

    it('names a record whose payload was changed', () => {
      withDatabase((db) => {
        const envelope = envelopeOf(db, 5);
        const body = bodyOf(envelope);
        body.data.decision = { ...(body.data.decision as object), decision: 'allow' };
        body.data.tool = 'Read';
        setEnvelope(db, 5, { ...envelope, payload: Buffer.from(canonicalJson(body)).toString('base64') });
      });
      assertRejected(5, 'event 5: signature does not verify (record changed?)');
    });

    it('names a record whose signature was changed', () => {
      withDatabase((db) => setEnvelope(db, 6, withSignatureFlipped(envelopeOf(db, 6))));
      assertRejected(6, 'event 6: signature does not verify (record changed?)');
    });

    it('names a record removed from the middle', () => {
      withDatabase((db) => db.prepare('DELETE FROM events WHERE seq = 4').run());
      assertRejected(4, 'event 4 missing (the next record is event 5)');
    });

    it('names the first of two records whose places were swapped', () => {
      withDatabase((db) => {
        const [third, seventh] = [envelopeOf(db, 3), envelopeOf(db, 7)];
        setEnvelope(db, 3, seventh);
        setEnvelope(db, 7, third);
      });
      assertRejected(3, 'event 3: holds the signed body of event 7 (records reordered?)');
    });

    it('names the first missing record when the tail a checkpoint covers is cut off', () => {
      withDatabase((db) => db.prepare('DELETE FROM events WHERE seq >= 8').run());
      assertRejected(8, 'event 8 missing: journal truncated after 7 but checkpoint covers 10');
    });

    it('names a record forged with another key', () => {
      withDatabase((db) => {
        const head = db.prepare<[], { hash: string }>('SELECT hash FROM events WHERE seq = 12').get()!;
        const forger = ed25519Signer(generateKeyPairSync('ed25519').privateKey);
        const body: EventBody = { ...draft(13), v: 1, seq: 13, prev: head.hash, device: { id: key.deviceId, key_id: forger.keyId } };
        const forged = sealEvent(body, forger);
        db.prepare(
          `INSERT INTO events (seq, hash, kind, time, session_id, tool_use_id, decision, envelope)
           VALUES (13, ?, 'hook.PreToolUse', ?, 'session-odd', 'toolu_13', 'allow', ?)`,
        ).run(forged.hash, body.time, JSON.stringify(forged.envelope));
      });
      assertRejected(13, /^event 13: not signed by a known key \(keyid sha256:[0-9a-f]{64}\) \(record changed\?\)$/);
    });

    it('names the successor of a record rewritten and re-signed with the device key itself', () => {
      withDatabase((db) => {
        const body = bodyOf(envelopeOf(db, 5));
        const rewritten = sealEvent({ ...body, data: { ...body.data, tool: 'Read' } }, key.signer);
        setEnvelope(db, 5, rewritten.envelope);
        db.prepare('UPDATE events SET hash = ? WHERE seq = 5').run(rewritten.hash);
      });
      assertRejected(6, 'event 6: prev does not link to event 5 (record removed, replaced or reordered?)');
    });

    it('names a checkpoint that a history rewritten and re-signed with the device key contradicts', () => {
      withDatabase((db) => {
        let prev = db.prepare<[], string>('SELECT hash FROM events WHERE seq = 8').pluck().get()!;
        for (let seq = 9; seq <= 12; seq++) {
          const body = bodyOf(envelopeOf(db, seq));
          const rewritten = sealEvent({ ...body, prev, data: { ...body.data, tool: 'Read' } }, key.signer);
          setEnvelope(db, seq, rewritten.envelope);
          db.prepare('UPDATE events SET hash = ? WHERE seq = ?').run(rewritten.hash, seq);
          prev = rewritten.hash;
        }
      });
      assertRejected(10, /^checkpoint at event 10: head [0-9a-f]{64} is not the hash of event 10 \([0-9a-f]{64}\)$/);
    });

    it('names a record signed by the device key that claims another key', () => {
      withDatabase((db) => {
        const body = bodyOf(envelopeOf(db, 12));
        const claimed = { ...body, device: { ...body.device, key_id: 'sha256:another' } };
        setEnvelope(db, 12, signEnvelope(EVENT_PAYLOAD_TYPE, canonicalBytes(claimed), key.signer));
      });
      assertRejected(12, `event 12: signed by ${key.keyId} but names key sha256:another`);
    });

    it('names a record signed by the device key whose payload is not canonical JSON', () => {
      withDatabase((db) => {
        const indented = JSON.stringify(bodyOf(envelopeOf(db, 4)), null, 1);
        setEnvelope(db, 4, signEnvelope(EVENT_PAYLOAD_TYPE, Buffer.from(indented), key.signer));
      });
      assertRejected(4, 'event 4: event payload is not canonical JSON (record changed?)');
    });

    it('names a record replaced by a signed envelope of another type', () => {
      withDatabase((db) => {
        const checkpointEnvelope = db.prepare<[], string>('SELECT envelope FROM checkpoints').pluck().get()!;
        db.prepare('UPDATE events SET envelope = ? WHERE seq = 2').run(checkpointEnvelope);
      });
      assertRejected(2, `event 2: payload type is ${CHECKPOINT_PAYLOAD_TYPE}, expected ${EVENT_PAYLOAD_TYPE} (record changed?)`);
    });

    it('names a record whose stored hash or index columns disagree with its signed body', () => {
      withDatabase((db) => db.prepare("UPDATE events SET session_id = 'session-even' WHERE seq = 3").run());
      assertRejected(3, 'event 3: column session_id is "session-even" but the signed body says "session-odd"');
      withDatabase((db) => db.prepare("UPDATE events SET hash = 'beef' WHERE seq = 2").run());
      assertRejected(2, /^event 2: stored hash beef is not the hash of the signed body/);
    });

    it('names a checkpoint whose signature was changed', () => {
      withDatabase((db) => {
        const envelope: Envelope = JSON.parse(db.prepare<[], string>('SELECT envelope FROM checkpoints').pluck().get()!);
        db.prepare('UPDATE checkpoints SET envelope = ?').run(JSON.stringify(withSignatureFlipped(envelope)));
      });
      assertRejected(10, 'checkpoint at event 10: signature does not verify');
    });

    it('reports a journal checked against another device key at its first event', () => {
      const other = loadOrCreateDeviceKey(join(dir, 'other-home'));
      assertRejected(1, /^event 1: not signed by a known key/, other.publicKey);
    });
  });
});
